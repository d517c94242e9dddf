import { App } from 'aws-cdk-lib';
import { PreviewServiceStack, stackName } from '../lib/preview-service-stack.js';
import { stageConfigFromContext, type StageConfig } from '../lib/stage-config.js';

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

app.synth();
