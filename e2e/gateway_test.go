package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/httpapi/apitest"
	"github.com/wa-onboarding/onboarding/onboarding"
)

const gatewayToken = "e2e-gateway-token-0123456789"

// gateway runs the gateway binary against the stack and returns its base
// URL; it is stopped with SIGTERM when the test ends, and must exit 0.
func (s *stack) gateway(t *testing.T, log *syncBuffer) string {
	t.Helper()
	port, err := freePort()
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(filepath.Join(s.bin, "gateway"))
	cmd.Env = append(s.env(), s.starterSealEnv(), "WA_API_TOKEN="+gatewayToken, "WA_GATEWAY_ADDR="+addr, "LOG_LEVEL=debug",
		"WA_WEBHOOK_APP_SECRET="+webhookAppSecret, "WA_WEBHOOK_VERIFY_TOKEN="+webhookVerifyToken)
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			require.NoError(t, err, "the gateway stops cleanly on SIGINT:\n%s", log.String())
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("the gateway did not stop within 20s of SIGINT")
		}
	})
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "gateway ready:\n%s", log.String())
	return base
}

// api sends an authenticated JSON request through c (which checks it
// against api/openapi.yaml) and decodes the answer into out, if not nil.
func api(t *testing.T, c *http.Client, method, url, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+gatewayToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(t, json.NewDecoder(bytes.NewReader(b)).Decode(out), string(b))
	}
	return resp.StatusCode
}

// TestOnboardThroughTheHTTPAPI onboards a number to registered through the
// gateway process alone, as a service that does not speak Temporal would,
// every exchange checked against api/openapi.yaml.
func TestOnboardThroughTheHTTPAPI(t *testing.T) {
	s := setup(t)
	log := &syncBuffer{}
	base := s.gateway(t, log)
	c := apitest.New(t).Client(t)
	const pin, number = "975310", "+15550000061"

	var run onboarding.Run
	require.Equal(t, http.StatusCreated, api(t, c, "POST", base+"/v1/numbers",
		`{"waba_id":"`+wabaID+`","country_code":"1","phone_number":"5550000061","display_name":"Acme Gateway","pin":"`+pin+`","code_wait":"2h"}`, &run))
	require.Equal(t, onboarding.WorkflowIDForE164(number), run.WorkflowID)

	var st onboarding.Status
	require.Eventually(t, func() bool {
		st = onboarding.Status{}
		return api(t, c, "GET", base+"/v1/numbers/"+number, "", &st) == http.StatusOK &&
			st.Stage == onboarding.StageAwaitingCode && !st.CodeRequestedAt.IsZero()
	}, 60*time.Second, 200*time.Millisecond, "awaiting a code; last %+v", st)
	code, ok := s.currentSim().LastCode(st.PhoneNumberID)
	require.True(t, ok)

	var res struct {
		Accepted bool `json:"accepted"`
	}
	require.Equal(t, http.StatusOK, api(t, c, "POST", base+"/v1/numbers/"+number+"/code", `{"code":"`+code[:3]+"-"+code[3:]+`"}`, &res))
	require.True(t, res.Accepted)

	require.Eventually(t, func() bool {
		st = onboarding.Status{}
		return api(t, c, "GET", base+"/v1/numbers/"+number, "", &st) == http.StatusOK && st.Stage == onboarding.StageRegistered
	}, 60*time.Second, 200*time.Millisecond, "registered; last %+v", st)
	n, _ := s.currentSim().Number(st.PhoneNumberID)
	require.Equal(t, graph.StatusConnected, n.Status)
	require.Equal(t, pin, n.PIN, "Meta got the PIN the service sent")

	var list struct {
		Numbers []onboarding.ListEntry `json:"numbers"`
	}
	require.Eventually(t, func() bool {
		return api(t, c, "GET", base+"/v1/numbers?stage=registered", "", &list) == http.StatusOK &&
			strings.Contains(fmt.Sprint(list.Numbers), run.WorkflowID)
	}, 30*time.Second, 200*time.Millisecond)

	require.Equal(t, http.StatusAccepted, api(t, c, "DELETE", base+"/v1/numbers/"+number, "", nil))
	assertNoSecrets(t, s, run.WorkflowID, log, pin, code, gatewayToken)
}
