package domain

// Connection types: the Relay connections that search, order and page the
// lists (graph/connection.graphqls). The paging itself lives in
// internal/connection; these are the plain values the schema binds to.

// OrderDirection is the direction of a connection's order.
type OrderDirection string

// Directions of an order.
const (
	OrderAsc  OrderDirection = "ASC"
	OrderDesc OrderDirection = "DESC"
)

// EnniOrderField names the door field a connection is ordered by.
type EnniOrderField string

// Door order fields.
const (
	EnniOrderReference EnniOrderField = "REFERENCE"
	EnniOrderCode      EnniOrderField = "CODE"
	EnniOrderLabel     EnniOrderField = "LABEL"
	EnniOrderName      EnniOrderField = "NAME"
	EnniOrderShortName EnniOrderField = "SHORT_NAME"
)

// ProjectOrderField names the project field a connection is ordered by.
type ProjectOrderField string

// Project order fields.
const (
	ProjectOrderCode       ProjectOrderField = "CODE"
	ProjectOrderClientCode ProjectOrderField = "CLIENT_CODE"
	ProjectOrderStartDate  ProjectOrderField = "START_DATE"
	ProjectOrderEndDate    ProjectOrderField = "END_DATE"
)

// BusinessOrderField names the business field a connection is ordered by.
type BusinessOrderField string

// Business order fields.
const (
	BusinessOrderCode             BusinessOrderField = "CODE"
	BusinessOrderLabel            BusinessOrderField = "LABEL"
	BusinessOrderModificationDate BusinessOrderField = "MODIFICATION_DATE"
)

// EnniOrder orders a door connection; an empty Direction is ASC.
type EnniOrder struct {
	Field     EnniOrderField
	Direction OrderDirection
}

// ProjectOrder orders a project connection; an empty Direction is ASC.
type ProjectOrder struct {
	Field     ProjectOrderField
	Direction OrderDirection
}

// BusinessOrder orders a business connection; an empty Direction is ASC.
type BusinessOrder struct {
	Field     BusinessOrderField
	Direction OrderDirection
}

// PageInfo says where a page sits in its connection.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// EnniConnection is one page of doors. Edges are built only when asked
// for, from Nodes and CursorOf, so a query for nodes encodes no cursor.
type EnniConnection struct {
	Nodes      []*Enni
	PageInfo   *PageInfo
	TotalCount int
	// CursorOf returns the cursor of the page's i-th node.
	CursorOf func(i int) string
}

// Edges returns the page's nodes with their cursors.
func (c *EnniConnection) Edges() []*EnniEdge {
	edges := make([]*EnniEdge, len(c.Nodes))
	for i, n := range c.Nodes {
		edges[i] = &EnniEdge{Cursor: c.CursorOf(i), Node: n}
	}
	return edges
}

// EnniEdge is a door with its cursor.
type EnniEdge struct {
	Cursor string
	Node   *Enni
}

// ProjectConnection is one page of projects.
type ProjectConnection struct {
	Nodes      []*Project
	PageInfo   *PageInfo
	TotalCount int
	// CursorOf returns the cursor of the page's i-th node.
	CursorOf func(i int) string
}

// Edges returns the page's nodes with their cursors.
func (c *ProjectConnection) Edges() []*ProjectEdge {
	edges := make([]*ProjectEdge, len(c.Nodes))
	for i, n := range c.Nodes {
		edges[i] = &ProjectEdge{Cursor: c.CursorOf(i), Node: n}
	}
	return edges
}

// ProjectEdge is a project with its cursor.
type ProjectEdge struct {
	Cursor string
	Node   *Project
}

// BusinessConnection is one page of businesses.
type BusinessConnection struct {
	Nodes      []*Business
	PageInfo   *PageInfo
	TotalCount int
	// CursorOf returns the cursor of the page's i-th node.
	CursorOf func(i int) string
}

// Edges returns the page's nodes with their cursors.
func (c *BusinessConnection) Edges() []*BusinessEdge {
	edges := make([]*BusinessEdge, len(c.Nodes))
	for i, n := range c.Nodes {
		edges[i] = &BusinessEdge{Cursor: c.CursorOf(i), Node: n}
	}
	return edges
}

// BusinessEdge is a business with its cursor.
type BusinessEdge struct {
	Cursor string
	Node   *Business
}
