// Entry point of `cdk synth` / `cdk deploy` (see cdk.json and docs/deploy.md).
import { createImagegenApp } from './imagegen-app';

createImagegenApp();
