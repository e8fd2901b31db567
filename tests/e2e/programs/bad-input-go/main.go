// Two mistakes in one resource, which Check must report together, each with its property path:
// a key usage that is not one of the allowed values, and a private key that is not PEM. (The
// engine stops at the first resource that fails, so both live in one resource.)
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"zerotrust/sdk/go/zerotrust/tls"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		_, err := tls.NewSelfSignedCert(ctx, "bad-input", &tls.SelfSignedCertArgs{
			PrivateKeyPem:       pulumi.String("this is not a PEM block"),
			AllowedUses:         pulumi.StringArray{pulumi.String("server_auth"), pulumi.String("sign_everything")},
			ValidityPeriodHours: pulumi.Int(24),
			Subject:             &tls.SelfSignedCertSubjectArgs{CommonName: pulumi.String("bad.example")},
		})
		return err
	})
}
