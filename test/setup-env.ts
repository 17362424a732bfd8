// Tests never reach AWS: fixed fake credentials and region, and no inherited endpoint overrides.
for (const key of Object.keys(process.env)) {
  if (key.startsWith('AWS_ENDPOINT_URL') || key === 'AWS_PROFILE') delete process.env[key];
}
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
process.env.AWS_REGION = 'us-east-1';
process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
