// compose.mjs composes a supergraph from running subgraphs, or from SDL
// files, with two composition libraries from the npm registry: Apollo's
// (@apollo/composition, what rover and Apollo GraphOS use) and The Guild's
// (@theguild/federation-composition, what Hive and Cosmo-style setups use).
// Both must accept the subgraphs; the Apollo supergraph SDL is printed on
// stdout for the router. Errors go to stderr, one per line, with their
// codes, and the exit status is 1.
//
// Usage: node compose.mjs name=http://127.0.0.1:8080/query name2=file:/path/to.graphql …
//
// COMPOSE_HEADERS, a JSON object, adds headers to the SDL requests: a
// subgraph behind caller authentication wants a credential for _service
// too (rover's --header does the same).
import { readFile } from 'node:fs/promises';
import { parse } from 'graphql';
import { composeServices as apolloCompose } from '@apollo/composition';
import { composeServices as guildCompose } from '@theguild/federation-composition';

async function sdlOf(source) {
  if (source.startsWith('file:')) return readFile(source.slice('file:'.length), 'utf8');
  const res = await fetch(source, {
    method: 'POST',
    headers: {
      ...JSON.parse(process.env.COMPOSE_HEADERS || '{}'),
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  const body = await res.json();
  if (!body.data?._service?.sdl) {
    throw new Error(`${source}: no SDL: ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data._service.sdl;
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: node compose.mjs name=URL|file:PATH …');
  process.exit(2);
}
const subgraphs = [];
for (const arg of args) {
  const at = arg.indexOf('=');
  const name = arg.slice(0, at);
  const source = arg.slice(at + 1);
  const sdl = await sdlOf(source);
  // A router reaches each subgraph at its URL; a file has none, so it
  // gets a placeholder on loopback that nothing listens on.
  const url = source.startsWith('file:') ? 'http://127.0.0.1:9/' : source;
  subgraphs.push({ name, url, typeDefs: parse(sdl) });
}

let failed = false;
const apollo = apolloCompose(subgraphs);
for (const e of apollo.errors ?? []) {
  failed = true;
  console.error(`apollo: ${e.extensions?.code ?? ''}: ${e.message}`);
}
const guild = guildCompose(subgraphs);
for (const e of guild.errors ?? []) {
  failed = true;
  console.error(`guild: ${e.extensions?.code ?? ''}: ${e.message}`);
}
if (failed) process.exit(1);
process.stdout.write(apollo.supergraphSdl);
