// defaults.js gives the Playground its example queries. gqlgen's page renders
// <GraphiQL> with fixed props, so this script, loaded between graphiql.min.js
// and the page's own script, wraps the component to add defaultTabs and
// defaultQuery. GraphiQL uses them only when the browser has no saved tabs.
(function () {
  "use strict";
  var examples = [
    "# Covage GraphQL gateway: press Ctrl-Enter\n" +
    "# or the run button. More examples are in\n" +
    "# the tabs; Docs and Explorer on the left.\n" +
    "#\n" +
    "# Order form: active projects with their\n" +
    "# client's active collection doors.\n" +
    "query OrderForm {\n" +
    "  projects(filter: { active: true }) {\n" +
    "    code\n" +
    "    clientCode\n" +
    "    ennis(filter: { active: true }) {\n" +
    "      reference\n" +
    "      label\n" +
    "      offer\n" +
    "    }\n" +
    "  }\n" +
    "}\n",
    "# Look codes up.\n" +
    "query LookUp {\n" +
    "  enni(reference: \"CN012345\") { label offer projects { code } }\n" +
    "  billingSites(codes: [\"AUX00\", \"AUX01\"]) { code description }\n" +
    "  terminateReasons { code label }\n" +
    "}\n",
    "# Refetch any object by its global ID (Relay).\n" +
    "query Refetch {\n" +
    "  node(id: \"UHJvamVjdDpGTEFTSA\") { id ... on Project { code active } }\n" +
    "}\n",
    {
      query:
        "# Search as you type: send this on every keystroke with\n" +
        "# the field's text as $search. Accents and case do not\n" +
        "# matter; every word must match. For the next page, pass\n" +
        "# pageInfo.endCursor as $after.\n" +
        "query SearchAsYouType($search: String, $after: String) {\n" +
        "  enniConnection(search: $search, first: 20, after: $after,\n" +
        "                 orderBy: { field: LABEL }) {\n" +
        "    totalCount\n" +
        "    nodes { reference label offer }\n" +
        "    pageInfo { hasNextPage endCursor }\n" +
        "  }\n" +
        "}\n",
      variables: "{\n  \"search\": \"regio\",\n  \"after\": null\n}\n",
    },
  ];
  var Inner = window.GraphiQL;
  if (!Inner || !window.React) {
    return;
  }
  function GraphiQLWithExamples(props) {
    var p = Object.assign({
      defaultQuery: examples[0],
      // A tab is a query, or a query with its variables.
      defaultTabs: examples.map(function (q) { return typeof q === "string" ? { query: q } : q; }),
    }, props);
    return window.React.createElement(Inner, p);
  }
  // Static members (createFetcher, Logo, Toolbar...) stay reachable.
  Object.assign(GraphiQLWithExamples, Inner);
  GraphiQLWithExamples.createFetcher = Inner.createFetcher;
  window.GraphiQL = GraphiQLWithExamples;
})();
