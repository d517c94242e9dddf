import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
}

/** Times in seconds, then one column of values per series (null where a series has no point). */
export type ChartData = [number[], ...(number | null)[][]];

const width = 240;
const height = 150;

/** A small time chart drawn by uPlot on a canvas; `data-points` says how many instants it shows. */
export function Chart({
  title,
  unit,
  series,
  data,
}: {
  title: string;
  unit: string;
  series: readonly ChartSeries[];
  data: ChartData;
}) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    plot.current = new uPlot(
      {
        width,
        height,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: {
          // uPlot spans a day after a single instant; a minute either side of it reads better.
          x: {
            time: true,
            range: (self, min, max) => {
              const times = self.data[0];
              return times.length === 1 ? [(times[0] as number) - 60, (times[0] as number) + 60] : [min, max];
            },
          },
        },
        axes: [{}, { label: unit, size: 50 }],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            spanGaps: true,
            points: { show: true },
          })),
        ],
      },
      data,
      element,
    );
    return () => plot.current?.destroy();
    // The chart is made once; its data changes below.
  }, []);

  useEffect(() => plot.current?.setData(data), [data]);

  return (
    <figure class="chart" data-testid={`chart-${title.replace(/ /g, '-')}`} data-points={data[0].length}>
      <figcaption>{title}</figcaption>
      <div ref={container} />
    </figure>
  );
}
