// Evaluates flags through OpenFeature's Node.js server SDK and its OFREP provider, as any Node.js service would.
// Usage: node evaluate.mjs <base-url> <evaluation-token> < cases.json
// cases.json: [{type: "boolean"|"string"|"number"|"object", key, default, context}]; prints the evaluation details as JSON.
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

const [baseUrl, token] = process.argv.slice(2);
let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}

await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl, headers: [['Authorization', `Bearer ${token}`]] }));
const client = OpenFeature.getClient();
const evaluate = {
  boolean: (key, fallback, context) => client.getBooleanDetails(key, fallback, context),
  string: (key, fallback, context) => client.getStringDetails(key, fallback, context),
  number: (key, fallback, context) => client.getNumberDetails(key, fallback, context),
  object: (key, fallback, context) => client.getObjectDetails(key, fallback, context),
};
const results = [];
for (const c of JSON.parse(input)) {
  const details = await evaluate[c.type](c.key, c.default, c.context ?? {});
  results.push({
    key: c.key,
    value: details.value,
    variant: details.variant ?? null,
    reason: details.reason ?? null,
    errorCode: details.errorCode ?? null,
    metadata: details.flagMetadata ?? {},
  });
}

process.stdout.write(JSON.stringify(results));
await OpenFeature.close();
