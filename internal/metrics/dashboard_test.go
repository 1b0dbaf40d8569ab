package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dashboards are the Grafana dashboards shipped with the product.
const dashboards = "../../deploy/grafana/*.json"

// exprs collects every "expr" string anywhere in a decoded JSON value.
func exprs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "expr" {
				*out = append(*out, s)
				continue
			}
			exprs(x, out)
		}
	case []any:
		for _, x := range v {
			exprs(x, out)
		}
	}
}

// metricName matches the names of this product's and the SDK's metrics in
// PromQL; labels, functions and keywords never start with these prefixes.
var metricName = regexp.MustCompile(`\b(?:` + Prefix + `|temporal_)[a-zA-Z0-9_]+`)

// histogramSeries are the suffixes Prometheus adds to a histogram's name.
var histogramSeries = []string{"_bucket", "_sum", "_count"}

func TestDashboardsQueryOnlyMetricsTheCodeRegisters(t *testing.T) {
	files, err := filepath.Glob(dashboards)
	require.NoError(t, err)
	require.NotEmpty(t, files, "no dashboard in %s", dashboards)
	known := append(Names(), SDKNames()...)
	used := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var d any
		require.NoError(t, json.Unmarshal(b, &d), f)
		var es []string
		exprs(d, &es)
		require.NotEmpty(t, es, "%s has no queries", f)
		for _, e := range es {
			names := metricName.FindAllString(e, -1)
			assert.NotEmpty(t, names, "%s: %q queries no metric of ours", f, e)
			for _, n := range names {
				base := n
				for _, suf := range histogramSeries {
					if s, ok := strings.CutSuffix(n, suf); ok && strings.HasSuffix(s, "_seconds") {
						base = s
					}
				}
				used[base] = true
				assert.True(t, slices.Contains(known, base), "%s: %s in %q is not a metric internal/metrics names", f, n, e)
				if base != n {
					assert.True(t, strings.HasSuffix(base, "_seconds"), "%s: only histograms have %s", f, n)
				}
			}
		}
	}
	for _, n := range Names() {
		assert.True(t, used[n], "no dashboard panel shows %s", n)
	}
}

func TestMetricNameRegexpFindsNamesInPromQL(t *testing.T) {
	got := metricName.FindAllString(`histogram_quantile(0.9, sum by (le) (rate(`+TimeToRegistered+`_bucket{task_queue="whatsapp-onboarding"}[5m]))) / `+SDKActivityFailed, -1)
	assert.Equal(t, []string{TimeToRegistered + "_bucket", SDKActivityFailed}, got)
}
