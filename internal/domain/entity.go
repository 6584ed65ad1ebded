package domain

// The four entity types of the Federation v2 subgraph (graph/federation/)
// mark themselves with IsEntity, the method gqlgen's _Entity union asks of
// its members (fedruntime.Entity). It is a marker only: the domain package
// stays free of gqlgen imports.

// IsEntity marks Project as a federation entity, keyed by code.
func (*Project) IsEntity() {}

// IsEntity marks Enni as a federation entity, keyed by reference.
func (*Enni) IsEntity() {}

// IsEntity marks Business as a federation entity, keyed by code.
func (*Business) IsEntity() {}

// IsEntity marks BillingSite as a federation entity, keyed by code.
func (*BillingSite) IsEntity() {}
