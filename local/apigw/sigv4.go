package apigw

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Credential is a key pair the local gateway accepts and the IAM principal
// it stands for, as IAM would report it to API Gateway.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	PrincipalARN    string
}

// Verifier checks SigV4 signatures (Authorization header, AWS4-HMAC-SHA256)
// the way API Gateway's IAM authorisation does for service execute-api. It
// is written from the Signature Version 4 specification rather than with
// the SDK's signer, so a client whose signing differs from the
// specification (an ARN path encoded once, not twice) is refused here as
// it would be in AWS.
type Verifier struct {
	Region      string
	Service     string // default "execute-api"
	Credentials []Credential
	// MaxSkew is how far the request's X-Amz-Date may be from now; AWS
	// allows 5 minutes.
	MaxSkew time.Duration
	Now     func() time.Time
}

// Refusal is why a request is not authorised, with the status and body API
// Gateway answers.
type Refusal struct {
	Status  int
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Messages API Gateway answers with.
const (
	msgMissing   = "Forbidden"
	msgMismatch  = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgBadKey    = "The security token included in the request is invalid."
	msgMalformed = "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."
)

const algorithm = "AWS4-HMAC-SHA256"

// Signed reports whether the request carries a SigV4 Authorization header.
func Signed(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), algorithm+" ")
}

// Verify checks the request's signature over body and returns the
// principal the signing key stands for.
func (v *Verifier) Verify(r *http.Request, body []byte) (string, *Refusal) {
	forbidden := func(msg string) (string, *Refusal) { return "", &Refusal{Status: http.StatusForbidden, Message: msg} }
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, algorithm+" ") {
		return forbidden(msgMissing)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, algorithm+" "), ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[k] = val
		}
	}
	credential, signedHeaders, signature := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	if credential == "" || signedHeaders == "" || signature == "" {
		return forbidden(msgMalformed)
	}
	scope := strings.Split(credential, "/") // key/date/region/service/aws4_request
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return forbidden("Credential should be scoped to a valid region, not '" + credential + "'. ")
	}
	service := v.Service
	if service == "" {
		service = "execute-api"
	}
	switch {
	case scope[2] != v.Region:
		return forbidden(fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", scope[2]))
	case scope[3] != service:
		return forbidden(fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", service))
	}
	var cred *Credential
	for i := range v.Credentials {
		if v.Credentials[i].AccessKeyID == scope[0] {
			cred = &v.Credentials[i]
		}
	}
	if cred == nil {
		return forbidden(msgBadKey)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	at, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return forbidden("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if amzDate[:8] != scope[1] {
		return forbidden("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP")
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew == 0 {
		skew = 5 * time.Minute
	}
	if d := now().Sub(at); d > skew || d < -skew {
		return forbidden(fmt.Sprintf("Signature expired: %s is now earlier than %s", amzDate, now().Add(-skew).UTC().Format("20060102T150405Z")))
	}
	canonical, ok := canonicalRequest(r, strings.Split(signedHeaders, ";"), body)
	if !ok {
		return forbidden(msgMismatch)
	}
	sum := sha256.Sum256([]byte(canonical))
	stringToSign := algorithm + "\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+cred.SecretAccessKey), scope[1])
	for _, s := range scope[2:] {
		key = hmacSHA256(key, s)
	}
	want := hex.EncodeToString(hmacSHA256(key, stringToSign))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return forbidden(msgMismatch)
	}
	return cred.PrincipalARN, nil
}

// canonicalRequest builds the SigV4 canonical request. The canonical URI
// is the path as sent (encoded once by the client) URI-encoded again: every
// service but S3 signs the path encoded twice. ok is false when a signed
// header is missing, or "host" is not signed.
func canonicalRequest(r *http.Request, signed []string, body []byte) (string, bool) {
	var headers strings.Builder
	hostSigned := false
	for _, name := range signed {
		var values []string
		switch name {
		case "host":
			hostSigned = true
			values = []string{r.Host}
		case "content-length":
			values = []string{fmt.Sprint(r.ContentLength)}
		default:
			values = r.Header.Values(name)
		}
		if len(values) == 0 {
			return "", false
		}
		for i, val := range values {
			values[i] = strings.Join(strings.Fields(val), " ")
		}
		headers.WriteString(name + ":" + strings.Join(values, ",") + "\n")
	}
	if !hostSigned || !sort.StringsAreSorted(signed) {
		return "", false
	}
	sum := sha256.Sum256(body)
	return strings.Join([]string{
		r.Method,
		uriEncode(r.URL.EscapedPath(), false),
		canonicalQuery(r.URL.RawQuery),
		headers.String(),
		strings.Join(signed, ";"),
		hex.EncodeToString(sum[:]),
	}, "\n"), true
}

// canonicalQuery sorts the parameters by name, then value, each
// URI-encoded ('/' too).
func canonicalQuery(raw string) string {
	values, _ := url.ParseQuery(raw)
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range values {
		for _, v := range vs {
			pairs = append(pairs, pair{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// uriEncode percent-encodes every byte but the unreserved characters
// A-Z a-z 0-9 - . _ ~ (and '/' unless encodeSlash), in upper-case hex.
func uriEncode(s string, encodeSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
