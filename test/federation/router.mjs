// router.mjs runs a Federation v2 router from the npm registry
// (@apollo/gateway inside @apollo/server) in front of the subgraphs of a
// supergraph SDL file, on a free port of 127.0.0.1, and prints
// "listening <url>". It works offline: the supergraph is read from the file
// (no managed federation, no Apollo GraphOS), usage reporting is off (no
// APOLLO_KEY), the landing page that would load from a CDN is disabled, and
// Apollo Gateway's own telemetry, which otherwise sends metrics to Apollo
// and probes cloud metadata services, is turned off with
// APOLLO_TELEMETRY_DISABLED before the gateway is built.
//
// It forwards the caller's Authorization, X-API-Key and X-Request-Id headers to every
// subgraph, as a production router must for the gateway's caller
// authentication and per-caller rate limit to see the caller.
//
// Usage: node router.mjs supergraph.graphql
process.env.APOLLO_TELEMETRY_DISABLED = 'true';
for (const name of ['APOLLO_KEY', 'APOLLO_GRAPH_REF', 'APOLLO_SCHEMA_REPORTING']) delete process.env[name];

const { readFile } = await import('node:fs/promises');
const { ApolloServer } = await import('@apollo/server');
const { startStandaloneServer } = await import('@apollo/server/standalone');
const { ApolloServerPluginLandingPageDisabled, ApolloServerPluginUsageReportingDisabled, ApolloServerPluginSchemaReportingDisabled } =
  await import('@apollo/server/plugin/disabled');
const { ApolloGateway, RemoteGraphQLDataSource } = await import('@apollo/gateway');

const FORWARDED = ['authorization', 'x-api-key', 'x-request-id'];

class ForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    for (const name of FORWARDED) {
      const value = context.headers?.[name];
      if (value) request.http.headers.set(name, value);
    }
  }
}

const supergraphSdl = await readFile(process.argv[2], 'utf8');
const gateway = new ApolloGateway({
  supergraphSdl,
  buildService: ({ url }) => new ForwardingDataSource({ url }),
});
const server = new ApolloServer({
  gateway,
  plugins: [
    ApolloServerPluginLandingPageDisabled(),
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
  ],
});
const { url } = await startStandaloneServer(server, {
  listen: { host: '127.0.0.1', port: 0 },
  context: async ({ req }) => ({ headers: req.headers }),
});
console.log(`listening ${url}`);
