import { z } from 'zod';
import { fieldErrors, invalidFields, type FieldError } from './errors.js';
import { generateDockerfile } from './generated-dockerfile.js';

export const databaseTypes = ['none', 'sqlite', 'postgresql', 'mongodb'] as const;
export const databaseTypeSchema = z.enum(databaseTypes);
export type DatabaseType = z.infer<typeof databaseTypeSchema>;

/** Generation ids are path segments and folder names: keep them boring. */
export const generationIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'must be 1-100 letters, digits, "_" or "-"');

const relativePath = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (p) => !p.startsWith('/') && !p.split('/').includes('..'),
    'must be a relative path inside the generation',
  );

const urlPath = z.string().regex(/^\/[^\s?#]*$/, 'must be an absolute URL path such as /health');

/** `generation.json`: what the code generator says about the app it produced. */
export const generationSchema = z
  .object({
    id: generationIdSchema,
    projectId: z.string().min(1).max(100),
    /** The SaaS user the generation belongs to (the JWT's `sub`): only they may launch it. */
    ownerId: z
      .string()
      .regex(/^[A-Za-z0-9@._:|-]{1,128}$/, 'must be a user id as the SaaS token names it')
      .optional(),
    version: z.string().min(1).max(50).optional(),
    dbType: databaseTypeSchema,
    dbVersion: z.string().min(1).max(20).optional(),
    entryPoint: z.string().min(1).max(500),
    port: z.number().int().min(1).max(65535).default(8000),
    healthCheckEndpoint: urlPath.default('/health'),
    healthCheckInterval: z.number().int().min(5).max(3600).default(30),
    requiresMigrations: z.boolean().default(false),
    migrationCommand: z.string().min(1).max(500).optional(),
    seedDataIncluded: z.boolean().default(false),
    seedCommand: z.string().min(1).max(500).optional(),
    /** Left out, and with no `Dockerfile` in the generation: one is generated (generated-dockerfile.ts). */
    dockerfile: relativePath.default('Dockerfile'),
    openapiPath: urlPath.default('/openapi.json'),
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
        z.string(),
      )
      .default({}),
  })
  .strict()
  .superRefine((g, ctx) => {
    if (g.requiresMigrations && !g.migrationCommand) {
      ctx.addIssue({
        code: 'custom',
        path: ['migrationCommand'],
        message: 'is required when requiresMigrations is true',
      });
    }
    if (g.seedDataIncluded && !g.seedCommand) {
      ctx.addIssue({
        code: 'custom',
        path: ['seedCommand'],
        message: 'is required when seedDataIncluded is true',
      });
    }
  });

export type Generation = z.infer<typeof generationSchema>;

/** A generation with its files, as the image build needs it. */
export interface GenerationSource {
  readonly generation: Generation;
  /**
   * Relative path → content, including the Dockerfile (a generated one too, so it is built and
   * content-hashed like any other file) and generation.json.
   */
  readonly files: ReadonlyMap<string, Buffer>;
  /** The Dockerfile made from generation.json, when the generation has none of its own. */
  readonly generatedDockerfile?: string;
}

/** Limits on what a generation may hold, so a bad one cannot exhaust memory. */
export const generationLimits = { maxFiles: 5000, maxTotalBytes: 50 * 1024 * 1024 } as const;

/**
 * Validates a generation's files: `generation.json` by the schema, and that the Dockerfile it
 * names is there. A generation that names none and has no `Dockerfile` gets one generated.
 */
export function parseGenerationSource(
  generationId: string,
  files: ReadonlyMap<string, Buffer>,
): GenerationSource {
  const invalid = (fields: FieldError[]) =>
    invalidFields(fields, `Generation ${generationId} has an invalid generation.json.`);
  const manifest = files.get('generation.json');
  if (!manifest) throw invalid([{ field: 'generation.json', message: 'is missing' }]);
  let json: unknown;
  try {
    json = JSON.parse(manifest.toString('utf8'));
  } catch {
    throw invalid([{ field: 'generation.json', message: 'is not valid JSON' }]);
  }
  const parsed = generationSchema.safeParse(json);
  if (!parsed.success) throw invalid(fieldErrors(parsed.error, 'generation.json'));
  const generation = parsed.data;
  if (generation.id !== generationId) {
    throw invalid([{ field: 'generation.json.id', message: `must be the folder name (${generationId})` }]);
  }
  if (files.has(generation.dockerfile)) return { generation, files };
  if (!Object.hasOwn(json as object, 'dockerfile')) {
    const generatedDockerfile = generateDockerfile(generation, files.keys());
    return {
      generation,
      files: new Map(files).set(generation.dockerfile, Buffer.from(generatedDockerfile)),
      generatedDockerfile,
    };
  }
  throw invalid([
    {
      field: 'generation.json.dockerfile',
      message: `names ${generation.dockerfile}, which is not in the generation`,
    },
  ]);
}
