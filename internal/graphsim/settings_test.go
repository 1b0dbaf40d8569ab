package graphsim

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/graph"
)

func (e *env) storage(id string) map[string]any {
	e.t.Helper()
	r := e.do("GET", "/"+id+"/settings", nil)
	e.requireOK(r)
	sc, ok := r.Body["storage_configuration"].(map[string]any)
	require.True(e.t, ok, "body: %s", r.Raw)
	return sc
}

func (e *env) statusAndPlatform(id string) (string, string) {
	e.t.Helper()
	r := e.do("GET", "/"+id+"?fields=status,platform_type", nil)
	e.requireOK(r)
	return r.Body["status"].(string), r.Body["platform_type"].(string)
}

// TestSettingsFollowRegistration checks that GET /{id}/settings and GET
// /{id} say exactly what the last register or deregister did, which is what
// a caller reads after a lost answer.
func TestSettingsFollowRegistration(t *testing.T) {
	e := newEnv(t)
	id := e.addNumber("5551234567")

	require.Equal(t, map[string]any{"status": graph.StorageDefault}, e.storage(id))
	st, pl := e.statusAndPlatform(id)
	require.Equal(t, "PENDING", st)
	require.Equal(t, "NOT_APPLICABLE", pl)

	e.verify(id)
	e.requireOK(e.do("POST", "/"+id+"/register", map[string]any{"messaging_product": "whatsapp", "pin": "123456", "data_localization_region": "CH"}))
	require.Equal(t, map[string]any{"status": graph.StorageInCountry, "data_localization_region": "CH"}, e.storage(id))
	st, pl = e.statusAndPlatform(id)
	require.Equal(t, "CONNECTED", st)
	require.Equal(t, "CLOUD_API", pl)

	// A refused register changes nothing.
	e.requireErr(e.do("POST", "/"+id+"/register", map[string]any{"messaging_product": "whatsapp", "pin": "123456", "data_localization_region": "DE"}), 400, 100, 0)
	require.Equal(t, "CH", e.storage(id)["data_localization_region"])

	e.requireOK(e.do("POST", "/"+id+"/deregister", nil))
	require.Equal(t, map[string]any{"status": graph.StorageDefault}, e.storage(id))
	st, pl = e.statusAndPlatform(id)
	require.Equal(t, "DISCONNECTED", st)
	require.Equal(t, "NOT_APPLICABLE", pl)

	e.requireOK(e.do("POST", "/"+id+"/register", register("123456")))
	require.Equal(t, map[string]any{"status": graph.StorageDefault}, e.storage(id), "registered without a region")
	e.requireOK(e.do("POST", "/"+id+"/deregister", nil))
	e.requireOK(e.do("POST", "/"+id+"/register", map[string]any{"messaging_product": "whatsapp", "pin": "123456", "data_localization_region": "IN"}))
	require.Equal(t, "IN", e.storage(id)["data_localization_region"])

	// A register whose answer was lost still moved the state.
	e.requireOK(e.do("POST", "/"+id+"/deregister", nil))
	require.NoError(t, e.sim.InjectFault(Fault{Kind: FaultLostAnswer, Endpoint: EndpointRegister, Times: 1, Answer: AnswerStatus}))
	r := e.do("POST", "/"+id+"/register", map[string]any{"messaging_product": "whatsapp", "pin": "123456", "data_localization_region": "BR"})
	require.Equal(t, 502, r.Status)
	require.Equal(t, map[string]any{"status": graph.StorageInCountry, "data_localization_region": "BR"}, e.storage(id))

	e.requireErr(e.do("GET", "/31337/settings", nil), 400, 100, 33)
	e.requireErr(e.do("POST", "/"+id+"/settings", url.Values{}), 400, 100, 33)
	var logged bool
	for _, c := range e.sim.Calls() {
		logged = logged || (c.Endpoint == EndpointGetSettings && c.PhoneNumberID == id)
	}
	require.True(t, logged)
}
