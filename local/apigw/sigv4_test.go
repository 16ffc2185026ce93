package apigw

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const principal = "arn:aws:iam::123456789012:user/local-developer"

var (
	signingTime = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	creds       = aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	arnPath     = "/executions/" + url.PathEscape("arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/p4jn9xou8a8s")
)

func verifier() *Verifier {
	return &Verifier{Region: "us-east-1", Credentials: []Credential{{AccessKeyID: "test", SecretAccessKey: "test", PrincipalARN: principal}},
		Now: func() time.Time { return signingTime.Add(time.Minute) }}
}

// signed builds a request as a client sends it: sign (the SDK's signer,
// configured by opts) and then replay it through an HTTP round trip, so
// the server sees what travels on the wire.
func signed(t testing.TB, method, rawURL string, body []byte, key aws.Credentials, region string, at time.Time, opts ...func(*v4.SignerOptions)) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner(opts...).SignHTTP(context.Background(), key, req, hex.EncodeToString(sum[:]), "execute-api", region, at); err != nil {
		t.Fatal(err)
	}
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Clone(context.Background()) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	req.URL.Host = u.Host // the signature covers the Host header, which keeps the original host
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return got
}

// curlStyle signs the path as curl --aws-sigv4 does: encoded once, the
// way the SDK signs only for S3.
func curlStyle(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }

func TestVerifyAcceptsWhatTheSDKSigns(t *testing.T) {
	body := []byte(`{"reason":"cost"}`)
	for _, path := range []string{"/stops", "/pipelines/train/executions/p4jn9xou8a8s/stops", arnPath, "/pipelines/train/executions/p4jn9xou8a8s?account=123456789012&b=a%2Fb"} {
		req := signed(t, "POST", "http://api.local:3000"+path, body, creds, "us-east-1", signingTime)
		got, refusal := verifier().Verify(req, body)
		if refusal != nil || got != principal {
			t.Errorf("%s: refused (%v), want principal %s", path, refusal, principal)
		}
	}
}

// TestEncodedARNPathNeedsDoubleEncoding is why the ARN path is deprecated:
// signed as curl signs it (path encoded once) the signature does not match
// API Gateway's canonical request, while the pipeline/id path, which has
// nothing to encode, verifies either way.
func TestEncodedARNPathNeedsDoubleEncoding(t *testing.T) {
	for _, tt := range []struct {
		path string
		ok   bool
	}{
		{arnPath, false},
		{"/pipelines/train/executions/p4jn9xou8a8s", true},
		{"/stops/stop-0123456789abcdef", true},
	} {
		req := signed(t, "GET", "http://api.local:3000"+tt.path, nil, creds, "us-east-1", signingTime, curlStyle)
		_, refusal := verifier().Verify(req, nil)
		if (refusal == nil) != tt.ok {
			t.Errorf("curl-style signature of %s: refusal %v, want accepted=%v", tt.path, refusal, tt.ok)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	body := []byte(`{"reason":"cost"}`)
	good := func() *http.Request {
		return signed(t, "POST", "http://api.local:3000/stops", body, creds, "us-east-1", signingTime)
	}
	tests := []struct {
		name string
		req  func() (*http.Request, []byte)
		want string
	}{
		{"unsigned", func() (*http.Request, []byte) { return httptest.NewRequest("POST", "/stops", nil), nil }, msgMissing},
		{"body changed", func() (*http.Request, []byte) { return good(), []byte(`{"reason":"other"}`) }, msgMismatch},
		{"path changed", func() (*http.Request, []byte) { r := good(); r.URL.Path, r.URL.RawPath = "/stopz", ""; return r, body }, msgMismatch},
		{"signed header changed", func() (*http.Request, []byte) {
			r := good()
			r.Header.Set("Content-Type", "text/plain")
			return r, body
		}, msgMismatch},
		{"wrong secret", func() (*http.Request, []byte) {
			return signed(t, "POST", "http://api.local:3000/stops", body, aws.Credentials{AccessKeyID: "test", SecretAccessKey: "nope"}, "us-east-1", signingTime), body
		}, msgMismatch},
		{"unknown key", func() (*http.Request, []byte) {
			return signed(t, "POST", "http://api.local:3000/stops", body, aws.Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: "test"}, "us-east-1", signingTime), body
		}, msgBadKey},
		{"other region", func() (*http.Request, []byte) {
			return signed(t, "POST", "http://api.local:3000/stops", body, creds, "eu-west-1", signingTime), body
		}, "Credential should be scoped to a valid region, not 'eu-west-1'. "},
		{"too old", func() (*http.Request, []byte) {
			return signed(t, "POST", "http://api.local:3000/stops", body, creds, "us-east-1", signingTime.Add(-10*time.Minute)), body
		}, "Signature expired: 20261126T085000Z is now earlier than 20261126T085600Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, b := tt.req()
			got, refusal := verifier().Verify(req, b)
			if refusal == nil {
				t.Fatalf("accepted as %s", got)
			}
			if refusal.Status != http.StatusForbidden || refusal.Message != tt.want {
				t.Fatalf("refusal %d %q, want 403 %q", refusal.Status, refusal.Message, tt.want)
			}
		})
	}
}
