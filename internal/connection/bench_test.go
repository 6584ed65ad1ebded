package connection

import (
	"fmt"
	"testing"
)

// BenchmarkIndexBuild measures what one list version costs once: the
// folded texts (first search) and the gram index (second search), on
// 2,000 and 50,000 generated doors.
//
//	go test ./internal/connection -run '^$' -bench . -benchmem
func BenchmarkIndexBuild(b *testing.B) {
	for _, n := range []int{2000, 50000} {
		list := generated(n)
		b.Run(fmt.Sprintf("doors=%d/texts", n), func(b *testing.B) {
			for b.Loop() {
				NewIndex(Ennis, list).texts()
			}
		})
		b.Run(fmt.Sprintf("doors=%d/texts+grams", n), func(b *testing.B) {
			for b.Loop() {
				kept(Ennis, list).buildGrams()
			}
		})
		b.Run(fmt.Sprintf("doors=%d/order_label", n), func(b *testing.B) {
			for b.Loop() {
				NewIndex(Ennis, list).ordering(orderName{field: "LABEL"})
			}
		})
	}
}

// BenchmarkRun measures one page on a built index: a search, the same
// search's next page by cursor, and an ordered page, on 2,000 and 50,000
// doors. "col" matches every door, "n°7" about one in 45.
func BenchmarkRun(b *testing.B) {
	for _, n := range []int{2000, 50000} {
		ix := kept(Ennis, generated(n))
		for _, s := range []string{"col", "n°7", "porte c0007"} {
			for _, order := range []string{"", "LABEL"} {
				a := Args{Search: &s, Order: order, First: ptr(20)}
				q, err := Parse(Ennis.Name, a)
				if err != nil {
					b.Fatal(err)
				}
				Run(ix, q) // builds the gram index
				after := Run(ix, q).Cursor(19)
				b.Run(fmt.Sprintf("doors=%d/search=%s/order=%s", n, s, order), func(b *testing.B) {
					for b.Loop() {
						q, _ := Parse(Ennis.Name, a)
						Run(ix, q)
					}
				})
				b.Run(fmt.Sprintf("doors=%d/search=%s/order=%s/next_page", n, s, order), func(b *testing.B) {
					a := a
					a.After = &after
					for b.Loop() {
						q, _ := Parse(Ennis.Name, a)
						Run(ix, q)
					}
				})
			}
		}
	}
}
