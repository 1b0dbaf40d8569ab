package graphsim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// try sends a Graph request with the right token and, unlike env.do, hands
// back a transport error instead of failing the test.
func (e *env) try(ctx context.Context, method, path string, form url.Values) (resp, error) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, e.base+path, body)
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	out := resp{Status: res.StatusCode, Header: res.Header, Raw: b}
	_ = json.Unmarshal(b, &out.Body)
	return out, err
}

func (e *env) lastCall() Call {
	e.t.Helper()
	calls := e.sim.Calls()
	require.NotEmpty(e.t, calls)
	return calls[len(calls)-1]
}

func TestLostAnswer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := func(body string) resp { return e.doToken("", "POST", e.srv.URL+"/_sim/faults", body) }

	t.Run("drop: verify_code verifies, the client gets no answer", func(t *testing.T) {
		id := e.addNumber("5551230001")
		e.requireOK(e.do("POST", "/"+id+"/request_code", url.Values{"code_method": {"SMS"}, "language": {"en_US"}}))
		code, _ := e.sim.LastCode(id)
		// The chaos helper's JSON, over the admin API.
		r := admin(`{"kind":"lost_answer","endpoint":"verify_code","times":1,"answer":"drop"}`)
		e.requireOK(r)
		faults := e.sim.Faults()
		require.Len(t, faults, 1)
		require.Equal(t, FaultLostAnswer, faults[0].Kind)
		require.Equal(t, AnswerDrop, faults[0].Answer)

		_, err := e.try(ctx, "POST", "/"+id+"/verify_code", url.Values{"code": {code}})
		require.Error(t, err, "a dropped answer is a transport error")
		require.True(t, errors.Is(err, io.EOF) || strings.Contains(err.Error(), "EOF") ||
			strings.Contains(err.Error(), "connection reset"), "%v", err)

		n, _ := e.sim.Number(id)
		require.Equal(t, "VERIFIED", n.CodeVerificationStatus, "the call was carried out")
		c := e.lastCall()
		require.Equal(t, string(FaultLostAnswer), c.Fault)
		require.Equal(t, http.StatusOK, c.HTTPStatus, "the log keeps the answer Meta gave")
		require.Empty(t, e.sim.Faults())
		// The code was used up: the retry a client would make is refused.
		e.requireErr(e.do("POST", "/"+id+"/verify_code", url.Values{"code": {code}}), 400, 136025, 0)
	})

	t.Run("status: register registers and counts, the client gets a 502 page", func(t *testing.T) {
		id := e.addNumber("5551230002")
		e.verify(id)
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultLostAnswer, Endpoint: EndpointRegister, Number: id, Times: 1, Answer: AnswerStatus}))
		r, err := e.try(ctx, "POST", "/"+id+"/register", url.Values{"messaging_product": {"whatsapp"}, "pin": {"123456"}, "data_localization_region": {"CH"}})
		require.NoError(t, err)
		require.Equal(t, http.StatusBadGateway, r.Status)
		require.Contains(t, r.Header.Get("Content-Type"), "text/html")
		require.Nil(t, r.Body, "no envelope")
		n, _ := e.sim.Number(id)
		require.Equal(t, "CONNECTED", n.Status)
		require.Equal(t, "CH", n.DataLocalizationRegion)
		require.Equal(t, 1, n.RegisterRequests)
	})

	t.Run("status: a refused call is refused and counted just the same", func(t *testing.T) {
		id := e.addNumber("5551230003")
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultLostAnswer, Endpoint: EndpointRegister, Times: 1, Answer: AnswerStatus}))
		r, err := e.try(ctx, "POST", "/"+id+"/register", url.Values{"messaging_product": {"whatsapp"}, "pin": {"123456"}})
		require.NoError(t, err)
		require.Equal(t, http.StatusBadGateway, r.Status)
		require.Equal(t, 1, e.sim.RegisterCount(id))
		c := e.lastCall()
		require.Equal(t, 133006, c.ErrorCode, "Meta refused it: not verified")
	})

	t.Run("hang: add_phone_number adds, the client times out", func(t *testing.T) {
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultLostAnswer, Endpoint: EndpointAddPhoneNumber, Number: "15551230004", Times: 1, Answer: AnswerHang}))
		tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := e.try(tctx, "POST", "/"+testWABA+"/phone_numbers",
			url.Values{"cc": {"1"}, "phone_number": {"5551230004"}, "verified_name": {"Acme"}})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var found bool
		for _, n := range e.sim.Numbers() {
			found = found || (n.PhoneNumber == "5551230004" && n.WABAID == testWABA)
		}
		require.True(t, found, "the number is on the WABA")
		r := e.do("POST", "/"+testWABA+"/phone_numbers", url.Values{"cc": {"1"}, "phone_number": {"5551230004"}, "verified_name": {"Acme"}})
		e.requireErr(r, 400, 100, 2388012)
	})

	t.Run("drop: deregister deregisters and counts", func(t *testing.T) {
		id, err := e.sim.SeedNumber(testWABA, "1", "5551230005", Registered("123456", "DE"))
		require.NoError(t, err)
		require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultLostAnswer, Endpoint: EndpointDeregister, Times: 1}))
		_, err = e.try(ctx, "POST", "/"+id+"/deregister", nil)
		require.Error(t, err)
		n, _ := e.sim.Number(id)
		require.Equal(t, "DISCONNECTED", n.Status)
		require.Empty(t, n.DataLocalizationRegion)
		require.Equal(t, 1, n.DeregisterRequests)
	})

	t.Run("drop: request_code sends a code that replaces the previous one", func(t *testing.T) {
		id := e.addNumber("5551230006")
		e.requireOK(e.do("POST", "/"+id+"/request_code", url.Values{"code_method": {"SMS"}, "language": {"en_US"}}))
		first, _ := e.sim.LastCode(id)
		var second string
		for second == "" || second == first {
			require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultLostAnswer, Endpoint: EndpointRequestCode, Times: 1}))
			_, err := e.try(ctx, "POST", "/"+id+"/request_code", url.Values{"code_method": {"SMS"}, "language": {"en_US"}})
			require.Error(t, err)
			second, _ = e.sim.LastCode(id)
		}
		e.requireErr(e.do("POST", "/"+id+"/verify_code", url.Values{"code": {first}}), 400, 136025, 0)
		e.requireOK(e.do("POST", "/"+id+"/verify_code", url.Values{"code": {second}}))
	})

	t.Run("bad lost_answer faults", func(t *testing.T) {
		require.Equal(t, 400, admin(`{"kind":"lost_answer","answer":"shout"}`).Status)
		require.Error(t, e.sim.InjectFault(Fault{Kind: FaultStatus, Answer: AnswerDrop}))
		e.requireOK(admin(`{"kind":"lost_answer"}`))
		require.Equal(t, AnswerDrop, e.sim.Faults()[0].Answer, "drop is the default")
		e.sim.ClearFaults()
	})
}

// TestRequestCodeReplacesCode checks Meta's rule that a second code makes
// the first one refused.
func TestRequestCodeReplacesCode(t *testing.T) {
	e := newEnv(t)
	id := e.addNumber("5551234567")
	e.requireOK(e.do("POST", "/"+id+"/request_code", url.Values{"code_method": {"SMS"}, "language": {"en_US"}}))
	first, _ := e.sim.LastCode(id)
	second := first
	for second == first {
		e.requireOK(e.do("POST", "/"+id+"/request_code", url.Values{"code_method": {"VOICE"}, "language": {"en_US"}}))
		second, _ = e.sim.LastCode(id)
	}
	r := e.do("POST", "/"+id+"/verify_code", url.Values{"code": {first}})
	e.requireErr(r, 400, 136025, 0)
	e.requireOK(e.do("POST", "/"+id+"/verify_code", url.Values{"code": {second}}))
}
