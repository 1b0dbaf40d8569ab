package benche2e

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Plot colors: one per series; the batch run with runs parked is dashed.
var seriesColor = map[string]string{seriesFloor: "#1f77b4", seriesProduct: "#d62728"}

// writeSVG plots each batch's completions over the seconds since its first
// start, as a step line: the slope is the completion rate. It is written by
// hand: a few polylines do not justify a plotting dependency.
func writeSVG(w io.Writer, title string, bs []*batch) {
	const (
		width, height            = 760, 440
		left, right, top, bottom = 64, 170, 36, 52
	)
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	var maxT float64
	maxN := 1
	for _, b := range bs {
		maxT = math.Max(maxT, b.elapsed().Seconds())
		maxN = max(maxN, len(b.Done))
	}
	if maxT <= 0 {
		maxT = 1
	}
	xStep, yStep := niceStep(maxT), niceStep(float64(maxN))
	maxT = math.Ceil(maxT/xStep) * xStep
	maxY := math.Ceil(float64(maxN)/yStep) * yStep
	x := func(t float64) float64 { return float64(left) + t/maxT*pw }
	y := func(n float64) float64 { return float64(top) + ph - n/maxY*ph }

	var sb strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	for t := 0.0; t <= maxT+1e-9; t += xStep {
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e5e5"/>`, x(t), top, x(t), height-bottom)
		p(`<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(t), height-bottom+16, num(t))
	}
	for n := 0.0; n <= maxY+1e-9; n += yStep {
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/>`, left, y(n), width-right, y(n))
		p(`<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-6, y(n), num(n))
	}
	p(`<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#888"/>`+"\n", left, top, pw, ph)
	p(`<text x="%.1f" y="%d" text-anchor="middle">seconds since the batch's first start</text>`+"\n", float64(left)+pw/2, height-12)
	p(`<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">onboardings registered</text>`+"\n", float64(top)+ph/2)

	for _, b := range bs {
		t0 := b.first()
		done := make([]float64, len(b.Done))
		for i, d := range b.Done {
			done[i] = d.Sub(t0).Seconds()
		}
		slices.Sort(done)
		pts := []string{fmt.Sprintf("%.1f,%.1f", x(0), y(0))}
		for i, t := range done {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(t), y(float64(i)), x(t), y(float64(i+1))))
		}
		dash := ""
		if b.Round == 0 {
			dash = ` stroke-dasharray="6 4"`
		}
		p(`<polyline fill="none" stroke="%s" stroke-width="1.5" stroke-opacity="0.8"%s points="%s"><title>%s</title></polyline>`+"\n",
			seriesColor[b.Series], dash, strings.Join(pts, " "), html.EscapeString(batchLabel(b)))
	}

	ly := top + 10
	legend := func(color, dash, label string) {
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`, width-right+12, ly, width-right+36, ly, color, dash)
		p(`<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", width-right+42, ly, html.EscapeString(label))
		ly += 18
	}
	legend(seriesColor[seriesFloor], "", "floor")
	legend(seriesColor[seriesProduct], "", "product")
	for _, b := range bs {
		if b.Round == 0 {
			legend(seriesColor[b.Series], ` stroke-dasharray="6 4"`, "product, runs parked")
			break
		}
	}
	p("</svg>\n")
	_, _ = io.WriteString(w, sb.String())
}

func batchLabel(b *batch) string {
	if b.Round == 0 {
		return fmt.Sprintf("%s with runs parked: %d in %s", b.Series, len(b.Done), b.elapsed().Round(time.Millisecond))
	}
	return fmt.Sprintf("%s round %d: %d in %s", b.Series, b.Round, len(b.Done), b.elapsed().Round(time.Millisecond))
}

// niceStep is a grid step of 1, 2 or 5 times a power of ten giving about
// five to ten lines up to maxV.
func niceStep(maxV float64) float64 {
	if maxV <= 0 {
		return 1
	}
	raw := maxV / 6
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return m * pow
		}
	}
	return 10 * pow
}
