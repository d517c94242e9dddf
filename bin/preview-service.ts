import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PreviewServiceStack, stackName } from '#lib/preview-service-stack.js';
import { stageConfigFromContext, type StageConfig } from '#lib/stage-config.js';

const app = new App();

let config: StageConfig;
try {
  config = stageConfigFromContext((key) => app.node.tryGetContext(key));
} catch (error) {
  // A bad context value is a usage error: print the message, not a stack trace.
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}

// No `env`: the stack is environment-agnostic, so `cdk synth` needs no credentials and no lookups.
new PreviewServiceStack(app, stackName(config.stage), { config });

// Any finding without an acknowledgement (and its reason) fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

app.synth();
