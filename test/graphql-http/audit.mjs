// Runs the graphql-http audit suite (the GraphQL-over-HTTP spec's server
// audits) against the gateway at the URL given as the first argument, prints
// every result, and exits with 1 when any MUST or SHOULD audit does not pass.
// MAY audits are printed but do not fail the run.
//
//   node audit.mjs http://127.0.0.1:8080/query
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const results = await auditServer({ url });
let failed = 0;
for (const r of results) {
  const required = r.name.startsWith('MUST') || r.name.startsWith('SHOULD');
  const mark = r.status === 'ok' ? 'ok  ' : required ? 'FAIL' : 'may ';
  console.log(`${mark} ${r.id} ${r.name}${r.status === 'ok' ? '' : `: ${r.reason}`}`);
  if (r.status !== 'ok' && required) {
    failed++;
    if (r.response) {
      console.log(`     status ${r.response.status}, body ${await r.response.text().catch(() => '?')}`);
    }
  }
}
const must = results.filter((r) => r.name.startsWith('MUST')).length;
const should = results.filter((r) => r.name.startsWith('SHOULD')).length;
console.log(`${results.length} audits (${must} MUST, ${should} SHOULD): ${failed} MUST/SHOULD failed`);
process.exit(failed ? 1 : 0);
