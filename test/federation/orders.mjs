// orders.mjs is the second subgraph of the federation test: a small
// `orders` service, as a company that buys from Covage might run, whose
// orders point at Covage's collection doors by reference and at billing
// sites by code. It also defines what other subgraphs commonly define too
// (the Node interface, PageInfo, OrderDirection), so that composing it with
// the gateway proves those compose. It has no Query.node: Apollo's
// composition refuses two subgraphs' Query.node whose Node types do not
// overlap (subgraphs/relay.graphql shows the case that composes).
//
// Usage: ORDERS='[{"id","reference","enni","billingSite"},…]' node orders.mjs
// It listens on a free port of 127.0.0.1 and prints "listening <url>".
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

const orders = JSON.parse(process.env.ORDERS ?? '[]');

export const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])

  type Query {
    "Orders, oldest first, or newest first with direction DESC."
    orders(first: Int = 20, direction: OrderDirection = ASC): [Order!]!
    "Orders as a Relay connection."
    orderConnection(first: Int = 20): OrderConnection!
  }

  interface Node { id: ID! }

  type Order implements Node @key(fields: "id") {
    id: ID!
    reference: String!
    "The collection door the order is delivered on, resolved by the Covage subgraph."
    enni: Enni
    "Where the order is billed, resolved by the Covage subgraph."
    billingSite: BillingSite
  }

  type Enni @key(fields: "reference", resolvable: false) { reference: String! }
  type BillingSite @key(fields: "code", resolvable: false) { code: String! }

  type OrderConnection { nodes: [Order!]! pageInfo: PageInfo! totalCount: Int! }
  type PageInfo @shareable {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }
  enum OrderDirection { ASC DESC }
`);

const view = (o) => ({
  id: o.id,
  reference: o.reference,
  enni: o.enni ? { reference: o.enni } : null,
  billingSite: o.billingSite ? { code: o.billingSite } : null,
});

const resolvers = {
  Query: {
    orders: (_, { first, direction }) => {
      const list = direction === 'DESC' ? [...orders].reverse() : orders;
      return list.slice(0, Math.max(0, first)).map(view);
    },
    orderConnection: (_, { first }) => {
      const nodes = orders.slice(0, Math.max(0, first)).map(view);
      return {
        nodes,
        totalCount: orders.length,
        pageInfo: {
          hasNextPage: nodes.length < orders.length,
          hasPreviousPage: false,
          startCursor: nodes[0]?.id ?? null,
          endCursor: nodes.at(-1)?.id ?? null,
        },
      };
    },
  },
  Node: { __resolveType: () => 'Order' },
  Order: {
    __resolveReference: ({ id }) => {
      const o = orders.find((x) => x.id === id);
      return o ? view(o) : null;
    },
  },
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs, resolvers }]),
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled()],
  });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  console.log(`listening ${url}`);
}
