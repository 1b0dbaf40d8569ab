package graph

import "time"

// Class is what a caller should do about a failed Graph call. The workflow
// decides on a Class, never on an error's message text.
type Class int

// Error classes, from the most specific to the catch-all.
const (
	ClassUnknown                  Class = iota // not a Graph error at all
	ClassWindowExhausted                       // 133016: 10 register or deregister calls per 72 h spent
	ClassThrottled                             // 4, 80007, HTTP 429: app or WABA call-rate limit
	ClassTransient                             // 1, 2, 131000, 133004, 2494100, 5xx, transport errors, bad bodies
	ClassWrongCode                             // 136025: wrong or expired ownership code
	ClassPINMismatch                           // 133005: two-step PIN does not match
	ClassNameNotReady                          // 100 with subcode 2388001: display name still processing
	ClassNeedsReverification                   // 133006: ownership must be verified again
	ClassRecentlyDeleted                       // 133015: number deleted minutes ago
	ClassAlreadyExists                         // 2388012 (code or subcode): number already on a WABA
	ClassDeregistrationIncomplete              // 133000: deregister again, then register
	ClassPINThrottled                          // 133008, 133009: too many PIN guesses / too fast
	ClassPermanent                             // everything else: 0, 190, 3, 10, 200-299, 100, 131031, 368, ...
)

// Error is a failed Graph API call: Meta's error envelope, or a transport
// failure or unreadable answer wrapped in the same shape. Its Error string
// never contains the access token or a PIN.
type Error struct {
	HTTPStatus  int           // 0 for transport errors
	Code        int           // error.code; 0 when the answer had no envelope
	Subcode     int           // error.error_subcode (deprecated by Meta, still seen)
	Type        string        // error.type, e.g. OAuthException
	Message     string        // error.message
	Details     string        // error.error_data.details
	UserTitle   string        // error.error_user_title
	UserMessage string        // error.error_user_msg
	FBTraceID   string        // error.fbtrace_id
	IsTransient bool          // error.is_transient
	HasEnvelope bool          // the answer carried a decodable {"error":{...}} object
	RetryAfter  time.Duration // from Retry-After or X-Business-Use-Case-Usage, 0 when absent
	Op          string        // the call that failed, e.g. "register"
	Err         error         // underlying transport or decoding error, if any
}
