package graph

import (
	"strings"

	"github.com/wa-onboarding/onboarding/internal/validate"
)

// DefaultBaseURL is the Graph API root, version included, that a Client uses
// unless WithBaseURL says otherwise.
const DefaultBaseURL = "https://graph.facebook.com/v21.0"

// CodeMethod is how Meta delivers an ownership code.
type CodeMethod string

// Code delivery methods accepted by request_code.
const (
	CodeMethodSMS   CodeMethod = "SMS"
	CodeMethodVoice CodeMethod = "VOICE"
)

// Values of PhoneNumber.CodeVerificationStatus.
const (
	CodeVerified    = "VERIFIED"
	CodeNotVerified = "NOT_VERIFIED"
	CodeExpired     = "EXPIRED"
)

// Values of PhoneNumber.NameStatus.
const (
	NameApproved               = "APPROVED"
	NameAvailableWithoutReview = "AVAILABLE_WITHOUT_REVIEW"
	NamePendingReview          = "PENDING_REVIEW"
	NameDeclined               = "DECLINED"
	NameExpired                = "EXPIRED"
	NameNone                   = "NONE"
)

// Values of PhoneNumber.Status.
const (
	StatusPending      = "PENDING"
	StatusConnected    = "CONNECTED"
	StatusDisconnected = "DISCONNECTED"
	StatusFlagged      = "FLAGGED"
	StatusRestricted   = "RESTRICTED"
	StatusBanned       = "BANNED"
	StatusMigrated     = "MIGRATED"
	StatusDeleted      = "DELETED"
)

// Values of PhoneNumber.PlatformType.
const (
	PlatformCloudAPI      = "CLOUD_API"
	PlatformOnPremise     = "ON_PREMISE"
	PlatformNotApplicable = "NOT_APPLICABLE"
)

// DataLocalizationRegions are the values Meta accepts for
// data_localization_region: validate.Regions, which Register checks against.
var DataLocalizationRegions = validate.Regions

// DefaultPhoneNumberFields are the fields GetPhoneNumber and ListPhoneNumbers
// ask for when the caller names none.
var DefaultPhoneNumberFields = []string{
	"id", "display_phone_number", "verified_name", "code_verification_status",
	"name_status", "status", "quality_rating", "platform_type", "account_mode", "throughput",
}

// PhoneNumber is a WhatsApp Business phone number as the Graph API reads it.
type PhoneNumber struct {
	ID                     string      `json:"id"`
	DisplayPhoneNumber     string      `json:"display_phone_number,omitempty"`
	VerifiedName           string      `json:"verified_name,omitempty"`
	CodeVerificationStatus string      `json:"code_verification_status,omitempty"`
	NameStatus             string      `json:"name_status,omitempty"`
	Status                 string      `json:"status,omitempty"`
	QualityRating          string      `json:"quality_rating,omitempty"`
	PlatformType           string      `json:"platform_type,omitempty"`
	AccountMode            string      `json:"account_mode,omitempty"`
	Throughput             *Throughput `json:"throughput,omitempty"`
}

// Throughput is the messaging throughput tier of a number.
type Throughput struct {
	Level string `json:"level"`
}

// AddPhoneNumberRequest is the input of POST /{WABA_ID}/phone_numbers.
type AddPhoneNumberRequest struct {
	WABAID             string
	CC                 string // country dial code, digits only, e.g. "1"
	PhoneNumber        string // national number, digits only, no cc, no '+'
	VerifiedName       string // display name
	MigratePhoneNumber bool
	PreverifiedID      string
}

// ListOptions pages through GET /{WABA_ID}/phone_numbers.
type ListOptions struct {
	Fields []string // DefaultPhoneNumberFields when empty
	Limit  int      // page size; 0 lets the server choose
	After  string   // cursor from a previous page's Paging.Cursors.After
}

// PhoneNumberPage is one page of a WABA's numbers.
type PhoneNumberPage struct {
	Data   []PhoneNumber `json:"data"`
	Paging *Paging       `json:"paging,omitempty"`
}

// Paging is the Graph API's cursor paging block.
type Paging struct {
	Cursors struct {
		Before string `json:"before,omitempty"`
		After  string `json:"after,omitempty"`
	} `json:"cursors"`
	Next     string `json:"next,omitempty"`
	Previous string `json:"previous,omitempty"`
}

// RegisterRequest is the input of POST /{PHONE_NUMBER_ID}/register.
type RegisterRequest struct {
	// PIN is the six-digit two-step verification PIN, kept as a string so
	// leading zeros survive.
	PIN string
	// DataLocalizationRegion enables local storage in that country when set.
	DataLocalizationRegion string
	// Backup is only for numbers migrating from the On-Premises API.
	Backup *Backup
}

// Backup is the On-Premises backup a migrating number registers with.
type Backup struct {
	Password string `json:"password"`
	Data     string `json:"data"`
}

// String keeps the PIN out of %v and %+v.
func (r RegisterRequest) String() string {
	return "RegisterRequest{PIN:******, DataLocalizationRegion:" + r.DataLocalizationRegion + "}"
}

// Values of StorageConfiguration.Status.
const (
	StorageDefault   = "default"
	StorageInCountry = "in_country_storage_enabled"
)

// PhoneNumberSettings is the answer of GET /{PHONE_NUMBER_ID}/settings
// (PhoneNumberSettingsResponse in Meta's OpenAPI document), reduced to what
// the onboarding reads.
type PhoneNumberSettings struct {
	StorageConfiguration *StorageConfiguration `json:"storage_configuration"`
}

// StorageConfiguration says where Meta stores the number's message data.
type StorageConfiguration struct {
	// Status is StorageDefault or StorageInCountry.
	Status string `json:"status"`
	// DataLocalizationRegion is the region of local storage when Status is
	// StorageInCountry, as Meta writes it (its own example is lower case).
	DataLocalizationRegion string `json:"data_localization_region,omitempty"`
}

// Region is the data_localization_region the number is registered with, in
// upper case as RegisterRequest takes it ("CH"), or "" when local storage is
// off (a number registered without a region, deregistered, or never
// registered).
func (s *PhoneNumberSettings) Region() string {
	if s == nil || s.StorageConfiguration == nil || s.StorageConfiguration.Status != StorageInCountry {
		return ""
	}
	return strings.ToUpper(strings.TrimSpace(s.StorageConfiguration.DataLocalizationRegion))
}
