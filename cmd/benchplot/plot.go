package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// plotScaling draws CPU per request, p50 latency and peak RSS against the
// door count, each with the straight line through the origin and the
// largest point: measured points on or under it mean linear growth.
func plotScaling(rs []outcome, path string) error {
	panels := []struct {
		title, unit string
		value       func(outcome) float64
	}{
		{"Gateway CPU per request", "ms", func(o outcome) float64 { return float64(o.res.CPUPerRequest) / 1e6 }},
		{"p50 latency (4 clients)", "ms", func(o outcome) float64 { return float64(o.res.P50) / 1e6 }},
		{"Peak RSS", "MB", func(o outcome) float64 { return float64(o.res.PeakRSS) / (1 << 20) }},
	}
	row := make([]*plot.Plot, len(panels))
	for i, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		p.X.Label.Text = "ennis (projects = ennis/4, 40 ennis per client)"
		p.Y.Label.Text = pn.unit
		p.Add(plotter.NewGrid())
		pts := make(plotter.XYs, len(rs))
		for j, o := range rs {
			pts[j] = plotter.XY{X: float64(o.size[1]), Y: pn.value(o)}
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		points.Shape = draw.CircleGlyph{}
		points.Radius = vg.Points(3)
		last := pts[len(pts)-1]
		ref, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, last})
		if err != nil {
			return err
		}
		ref.Color = color.Gray{Y: 160}
		ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(ref, line, points)
		p.Legend.Add("measured", line, points)
		p.Legend.Add("linear", ref)
		p.Legend.Top, p.Legend.Left = true, true
		row[i] = p
	}
	img := vgimg.New(vg.Points(1200), vg.Points(380))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(row), PadX: vg.Points(20), PadY: vg.Points(10), PadTop: vg.Points(10), PadBottom: vg.Points(10), PadLeft: vg.Points(10), PadRight: vg.Points(10)}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, dc)
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
