package covage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

// doorsJSON builds a bare array of n collection doors shaped like the
// documented example.
func doorsJSON(n int) []byte {
	return jsonArray(n, ",", func(b *bytes.Buffer, i int) {
		fmt.Fprintf(b, `{"Code":"%d","name":"client","short_name":"DC123","reference":"CN%06d",`+
			`"label":"Collecte Nationale Entreprise","offer":"BPEA","dsp":"OXO","delivery_mode":"National","active":true}`, i, i)
	})
}

// jsonArray builds a JSON array of n elements, which elem writes, with sep
// between them.
func jsonArray(n int, sep string, elem func(b *bytes.Buffer, i int)) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteString(sep)
		}
		elem(&b, i)
	}
	b.WriteByte(']')
	return b.Bytes()
}

func BenchmarkEnnis2000(b *testing.B) {
	body := doorsJSON(2000)
	u := newUpstream(b)
	u.handle("enni/", serve(http.StatusOK, body))
	c, err := New(Config{BaseURL: u.base(), Logger: quietLogger()})
	require.NoError(b, err)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := c.Ennis(context.Background(), domain.EnniFilter{})
		if err != nil || len(got) != 2000 {
			b.Fatal(len(got), err)
		}
	}
}

// BenchmarkDecodeEnnis2000 decodes and maps 2,000 doors, with the
// encoding/json oracle (std) and with decode.go (jsontext) side by side.
func BenchmarkDecodeEnnis2000(b *testing.B) {
	body := doorsJSON(2000)
	c, err := New(Config{BaseURL: "https://api.covage.com", Logger: quietLogger()})
	require.NoError(b, err)
	var bufs buffers // as a Client lends them
	decoders := []struct {
		name   string
		decode func(io.Reader, string, []rawEnni) ([]rawEnni, string, error)
	}{
		{"std", decodeListStd[rawEnni]},
		{"jsontext", func(r io.Reader, listKey string, items []rawEnni) ([]rawEnni, string, error) {
			return decodeListFlushing(r, listKey, items, nil, &bufs)
		}},
	}
	for _, dec := range decoders {
		b.Run(dec.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				raw, _, err := dec.decode(bytes.NewReader(body), "", nil)
				if err != nil {
					b.Fatal(err)
				}
				if got := c.ennis(raw); len(got) != 2000 {
					b.Fatal(len(got))
				}
			}
		})
	}
}

// BenchmarkMapEnnis maps decoded doors into their records, for three
// lists: every door like the documented example (one customer, one DSP),
// doors like the demo upstream's (50 customers, 5 DSPs, each label its
// own), and doors whose every value is their own; each as a short list
// (2,000 doors) and a long one (20,000, past shareFrom: the doors share
// their values and copy their own strings).
//
//	go test ./internal/covage -run '^$' -bench MapEnnis -benchmem
func BenchmarkMapEnnis(b *testing.B) {
	lists := []struct {
		name string
		door func(b *bytes.Buffer, i int)
	}{
		{"example", func(b *bytes.Buffer, i int) {
			fmt.Fprintf(b, `{"Code":"%d","name":"client","short_name":"DC123","reference":"CN%06d",`+
				`"label":"Collecte Nationale Entreprise","offer":"BPEA","dsp":"OXO","delivery_mode":"National","active":true}`, i, i)
		}},
		{"demo", func(b *bytes.Buffer, i int) {
			fmt.Fprintf(b, `{"code":"%d","name":"Client C%04d","short_name":"C%04d","reference":"CN%06d",`+
				`"label":"Porte de collecte n°%d","offer":"BPEA","dsp":"%s","delivery_mode":"%s","active":true}`,
				i, i%50+1, i%50+1, i, i, []string{"OXO", "Covage", "Altitude", "Axione", "Tutor"}[i%5], []string{"Régional", "National", "Régional"}[i%3])
		}},
		{"unique", func(b *bytes.Buffer, i int) {
			fmt.Fprintf(b, `{"code":"%d","name":"Client %d","short_name":"C%d","reference":"CN%06d",`+
				`"label":"Porte %d","offer":"BPE","dsp":"DSP %d","delivery_mode":"Mode %d","active":false}`, i, i, i, i, i, i, i)
		}},
	}
	c, err := New(Config{BaseURL: "https://api.covage.com", Logger: quietLogger()})
	require.NoError(b, err)
	for _, l := range lists {
		for _, n := range []int{2000, 20_000} {
			raw, _, err := decodeList(bytes.NewReader(jsonArray(n, ",", l.door)), "", []rawEnni(nil))
			require.NoError(b, err)
			b.Run(fmt.Sprintf("%s/%d", l.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if got := c.ennis(raw); len(got) != n {
						b.Fatal(len(got))
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/door")
			})
		}
	}
}
