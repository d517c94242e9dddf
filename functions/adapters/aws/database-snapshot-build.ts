import type { ContainerDefinition, PreviewTaskDefinition } from '#core/task-definition.js';
import { isSecretVariable } from './ecs-task-definition.js';
import { snapshotDataPath } from './ecr-snapshot-images.js';

/**
 * How a database snapshot is made on CodeBuild. The build's source (S3) holds `plan.json`, the
 * task's database, migrate and seed containers without their secret values, and `build-snapshot.py`,
 * which runs them with Docker and builds the snapshot image. Secret values reach the build as
 * PARAMETER_STORE variables (`SNAPSHOT_SECRET_<n>`), never as plain text in StartBuild.
 */

/** A container as the snapshot build runs it. */
export interface SnapshotBuildContainer {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  readonly user?: string;
  /** Plain variables. */
  readonly environment: Readonly<Record<string, string>>;
  /** Secret variables: the name of the build's variable that holds each value. */
  readonly secrets: Readonly<Record<string, string>>;
}

export interface SnapshotBuildPlan {
  readonly dataPath: string;
  readonly database: SnapshotBuildContainer & {
    /** The database's health check (`CMD` or `CMD-SHELL` form), run in it until it passes. */
    readonly readyCommand: readonly string[];
  };
  /** Migrate, then seed: each in the database's network namespace, each must exit 0. */
  readonly steps: readonly SnapshotBuildContainer[];
}

/** A secret value and the build variable it is given as. */
export interface SnapshotBuildSecret {
  readonly variable: string;
  readonly value: string;
}

/**
 * The plan of a task's snapshot, or undefined when the task has no database or nothing to run in
 * it. Each distinct secret value becomes one build variable.
 */
export function snapshotBuildPlan(
  task: PreviewTaskDefinition,
): { plan: SnapshotBuildPlan; secrets: SnapshotBuildSecret[] } | undefined {
  const database = task.containers.find((c) => c.name === 'database');
  const steps = task.containers.filter((c) => c.name === 'migrate' || c.name === 'seed');
  if (!database || steps.length === 0) return undefined;
  const variables = new Map<string, string>();
  const container = (definition: ContainerDefinition, overrides: Record<string, string> = {}) => {
    const environment: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const [name, value] of Object.entries({ ...definition.environment, ...overrides })) {
      if (!isSecretVariable(name, value)) {
        environment[name] = value;
        continue;
      }
      const variable = variables.get(value) ?? `SNAPSHOT_SECRET_${variables.size + 1}`;
      variables.set(value, variable);
      secrets[name] = variable;
    }
    return {
      name: definition.name,
      image: definition.image,
      command: [...(definition.command ?? [])],
      ...(definition.user ? { user: definition.user } : {}),
      environment,
      secrets,
    };
  };
  const plan: SnapshotBuildPlan = {
    dataPath: snapshotDataPath,
    // Data in the container's own layer, outside the image's declared volume, where the script copies it from.
    database: {
      ...container(database, { PGDATA: `${snapshotDataPath}/pgdata` }),
      readyCommand: [...(database.healthCheck?.command ?? [])],
    },
    steps: steps.map((step) => container(step)),
  };
  return { plan, secrets: [...variables].map(([value, variable]) => ({ variable, value })) };
}

/**
 * Runs the plan with Docker and builds the snapshot image, tagged with every argument after the
 * plan: the database image with the data copied in (owned by the database's user), `PGDATA` set to
 * it and the path declared a VOLUME, so Fargate copies it into the task's bind mount mounted there.
 * The database is stopped cleanly first (the image's stop signal: a fast shutdown with a
 * checkpoint). No variable of the build's containers goes into the image. Output is printed with
 * the secret values replaced.
 */
export const snapshotBuildScript = String.raw`import json, os, subprocess, sys, tempfile, time, urllib.parse, uuid

plan_path, *tags = sys.argv[1:]
with open(plan_path) as f:
    plan = json.load(f)
database, steps, data_path = plan["database"], plan["steps"], plan["dataPath"]
prefix = "snapshot-" + uuid.uuid4().hex[:8] + "-"
name = prefix + "database"


def values(container):
    env = dict(container["environment"])
    env.update({key: os.environ[ref] for key, ref in container["secrets"].items()})
    return env


secrets = set()
for container in [database, *steps]:
    for key, ref in container["secrets"].items():
        secret = os.environ[ref]
        secrets.update({secret, urllib.parse.quote(secret, safe="")})
secrets = sorted((s for s in secrets if s), key=len, reverse=True)


def redact(text):
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def fail(message, output=""):
    print(redact(output)[-8000:], file=sys.stderr)
    sys.exit("snapshot build failed: " + message)


def docker(*args, check=True):
    result = subprocess.run(["docker", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        fail("docker %s exited with code %d" % (args[0], result.returncode), result.stdout + result.stderr)
    return result


def run_args(container, extra):
    args = ["run", "--name", prefix + container["name"], *extra]
    if container.get("user"):
        args += ["--user", container["user"]]
    for key, value in sorted(values(container).items()):
        args += ["-e", key + "=" + value]
    return [*args, container["image"], *container["command"]]


def remove_containers():
    names = [prefix + c["name"] for c in [database, *steps]]
    subprocess.run(["docker", "rm", "-f", "-v", *names], capture_output=True)


def build():
    docker(*run_args(database, ["-d", "--network", "none"]))
    ready = database["readyCommand"]
    check = ["sh", "-c", ready[1]] if ready[0] == "CMD-SHELL" else ready[1:]
    deadline = time.monotonic() + 120
    while docker("exec", name, *check, check=False).returncode != 0:
        running = docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip()
        if running != "true" or time.monotonic() > deadline:
            logs = docker("logs", name, check=False)
            fail("the database did not get ready", logs.stdout + logs.stderr)
        time.sleep(0.5)
    print("database: ready", flush=True)

    for step in steps:
        extra = ["--network", "container:" + name, "--read-only", "--tmpfs", "/tmp:rw,size=64m"]
        result = docker(*run_args(step, extra), check=False)
        print(redact(result.stdout + result.stderr)[-8000:], flush=True)
        if result.returncode != 0:
            fail("%s exited with code %d" % (step["name"], result.returncode))
        print("%s: done" % step["name"], flush=True)

    docker("stop", "-t", "30", name)
    code = docker("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip()
    if code != "0":
        logs = docker("logs", name, check=False)
        fail("the database stopped with code " + code, logs.stdout + logs.stderr)

    context = tempfile.mkdtemp()
    docker("cp", name + ":" + data_path, os.path.join(context, "data"))
    with open(os.path.join(context, "Dockerfile"), "w") as f:
        f.write(
            "FROM %s\nCOPY --chown=%s data %s\nENV PGDATA=%s/pgdata\nVOLUME [\"%s\"]\n"
            % (database["image"], database.get("user") or "postgres:postgres", data_path, data_path, data_path)
        )
    command = ["build"]
    for tag in tags:
        command += ["-t", tag]
    docker(*command, context)
    print("snapshot image: built", flush=True)


try:
    build()
finally:
    remove_containers()
`;

/** The build's source files: the plan and the script that runs it. */
export const snapshotBuildFiles = { plan: 'plan.json', script: 'build-snapshot.py' } as const;

/**
 * The snapshot project's buildspec (privileged: it runs Docker). StartBuild passes SNAPSHOT_REPO,
 * SNAPSHOT_TAG, SNAPSHOT_GENERATION_TAG, the secret variables and SNAPSHOT_PARAMETERS, the names of
 * their parameters, which the build deletes however it ends (`finally`), even when whoever started it
 * is gone. The key's tag is pushed last: once `find` sees it, the snapshot is complete.
 */
export const snapshotBuildspec = {
  version: '0.2',
  phases: {
    build: {
      commands: [
        'aws ecr get-login-password | docker login --username AWS --password-stdin "${SNAPSHOT_REPO%%/*}"',
        `python3 ${snapshotBuildFiles.script} ${snapshotBuildFiles.plan} "$SNAPSHOT_REPO:$SNAPSHOT_TAG" "$SNAPSHOT_REPO:$SNAPSHOT_GENERATION_TAG"`,
        'docker push "$SNAPSHOT_REPO:$SNAPSHOT_GENERATION_TAG"',
        'docker push "$SNAPSHOT_REPO:$SNAPSHOT_TAG"',
      ],
      finally: [
        // DeleteParameters takes ten names at a time.
        'printf "%s\\n" $SNAPSHOT_PARAMETERS | xargs -r -n 10 aws ssm delete-parameters --names',
      ],
    },
  },
} as const;
