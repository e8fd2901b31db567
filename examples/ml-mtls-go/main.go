// The ml-mtls example (see ../ml-mtls/__main__.py for the design) in Go: a
// root CA, an intermediate with path length 0, one mTLS leaf per service, and
// two identities verify.py must see refused (an expired one, a rogue CA's one).
package main

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"zerotrust/sdk/go/zerotrust/tls"
)

const org = "zerotrust ml-mtls example"

var (
	services = []string{"feature-store", "trainer", "inference"}
	// One certificate per service serves both directions of mTLS.
	leafUses  = []string{"digital_signature", "key_encipherment", "server_auth", "client_auth"}
	caUses    = []string{"cert_signing", "crl_signing"}
	leafHours = 30 * 24
)

// issued says what a CA signs: the CSR's subject and SANs, and the certificate's terms.
type issued struct {
	commonName string
	dnsNames   []string
	uris       []string
	uses       []string
	hours      int
	extra      tls.LocallySignedCertArgs // optional settings; the required ones are filled in
}

// issue makes a CSR for key and has the CA sign it. SANs live in the CSR; the signer copies them.
func issue(ctx *pulumi.Context, name string, key *tls.PrivateKey, caCert pulumi.StringInput,
	caKey *tls.PrivateKey, what issued, opts ...pulumi.ResourceOption,
) (*tls.LocallySignedCert, error) {
	csr, err := tls.NewCertRequest(ctx, name+"-csr", &tls.CertRequestArgs{
		PrivateKeyPem: key.PrivateKeyPem,
		Subject: &tls.CertRequestSubjectArgs{
			CommonName:   pulumi.String(what.commonName),
			Organization: pulumi.String(org),
		},
		DnsNames: pulumi.ToStringArray(what.dnsNames),
		Uris:     pulumi.ToStringArray(what.uris),
	})
	if err != nil {
		return nil, err
	}
	args := what.extra
	args.CertRequestPem = csr.CertRequestPem
	args.CaCertPem = caCert
	args.CaPrivateKeyPem = caKey.PrivateKeyPem
	args.AllowedUses = pulumi.ToStringArray(what.uses)
	args.ValidityPeriodHours = pulumi.Int(what.hours)
	return tls.NewLocallySignedCert(ctx, name+"-cert", &args, opts...)
}

func ecKey(ctx *pulumi.Context, name, curve string) (*tls.PrivateKey, error) {
	return tls.NewPrivateKey(ctx, name, &tls.PrivateKeyArgs{
		Algorithm:  pulumi.String("ECDSA"),
		EcdsaCurve: pulumi.String(curve),
	})
}

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		trustDomain := cfg.Get("trustDomain")
		if trustDomain == "" {
			trustDomain = "cluster.local"
		}
		namespace := cfg.Get("namespace")
		if namespace == "" {
			namespace = "ml"
		}
		spiffeID := func(svc string) string {
			return fmt.Sprintf("spiffe://%s/ns/%s/sa/%s", trustDomain, namespace, svc)
		}

		// Root CA: long-lived, P-384, used for nothing but signing the intermediate.
		rootKey, err := ecKey(ctx, "root-ca-key", "P384")
		if err != nil {
			return err
		}
		rootCa, err := tls.NewSelfSignedCert(ctx, "root-ca", &tls.SelfSignedCertArgs{
			PrivateKeyPem: rootKey.PrivateKeyPem,
			Subject: &tls.SelfSignedCertSubjectArgs{
				CommonName:   pulumi.String(namespace + " root CA"),
				Organization: pulumi.String(org),
			},
			IsCaCertificate:     pulumi.Bool(true),
			AllowedUses:         pulumi.ToStringArray(caUses),
			SetSubjectKeyId:     pulumi.Bool(true),
			ValidityPeriodHours: pulumi.Int(10 * 365 * 24),
		})
		if err != nil {
			return err
		}

		// Intermediate CA: MaxPathLength 0, so a leaked intermediate key cannot mint sub-CAs.
		interKey, err := ecKey(ctx, "intermediate-ca-key", "P384")
		if err != nil {
			return err
		}
		interCa, err := issue(ctx, "intermediate-ca", interKey, rootCa.CertPem, rootKey, issued{
			commonName: namespace + " intermediate CA",
			uses:       caUses,
			hours:      3 * 365 * 24,
			extra: tls.LocallySignedCertArgs{
				IsCaCertificate: pulumi.Bool(true),
				MaxPathLength:   pulumi.Int(0),
				SetSubjectKeyId: pulumi.Bool(true),
			},
		})
		if err != nil {
			return err
		}

		// Workload identities, exported as <service>_cert and <service>_key.
		for _, svc := range services {
			key, err := ecKey(ctx, svc+"-key", "P256")
			if err != nil {
				return err
			}
			cert, err := issue(ctx, svc, key, interCa.CertPem, interKey, issued{
				commonName: fmt.Sprintf("%s.%s.svc.%s", svc, namespace, trustDomain),
				dnsNames: []string{
					svc,
					svc + "." + namespace,
					svc + "." + namespace + ".svc",
					svc + "." + namespace + ".svc." + trustDomain,
				},
				uris:  []string{spiffeID(svc)},
				uses:  leafUses,
				hours: leafHours,
				extra: tls.LocallySignedCertArgs{
					EarlyRenewalHours: pulumi.Int(24 * 7), // the next `up` in the last week rotates it
					BackdateMinutes:   pulumi.Int(5),      // tolerate small clock skew between nodes
					SetSubjectKeyId:   pulumi.Bool(true),
				},
			})
			if err != nil {
				return err
			}
			id := strings.ReplaceAll(svc, "-", "_")
			ctx.Export(id+"_cert", cert.CertPem)
			ctx.Export(id+"_key", pulumi.ToSecret(key.PrivateKeyPem))
		}

		// Negative case 1: a genuine trainer identity with zero validity, expired when created.
		expiredKey, err := ecKey(ctx, "expired-trainer-key", "P256")
		if err != nil {
			return err
		}
		expired, err := issue(ctx, "expired-trainer", expiredKey, interCa.CertPem, interKey, issued{
			commonName: fmt.Sprintf("trainer.%s.svc.%s", namespace, trustDomain),
			uris:       []string{spiffeID("trainer")},
			uses:       []string{"digital_signature", "client_auth"},
			hours:      0,
			extra:      tls.LocallySignedCertArgs{BackdateMinutes: pulumi.Int(5)},
		}, pulumi.IgnoreChanges([]string{"readyForRenewal"})) // expired on purpose: no renewal
		if err != nil {
			return err
		}

		// Negative case 2: same SPIFFE ID as trainer, signed by an unrelated CA.
		rogueCaKey, err := ecKey(ctx, "rogue-ca-key", "P256")
		if err != nil {
			return err
		}
		rogueCa, err := tls.NewSelfSignedCert(ctx, "rogue-ca", &tls.SelfSignedCertArgs{
			PrivateKeyPem: rogueCaKey.PrivateKeyPem,
			Subject: &tls.SelfSignedCertSubjectArgs{
				CommonName:   pulumi.String(namespace + " root CA"),
				Organization: pulumi.String("not us"),
			},
			IsCaCertificate:     pulumi.Bool(true),
			AllowedUses:         pulumi.ToStringArray(caUses),
			ValidityPeriodHours: pulumi.Int(leafHours),
		})
		if err != nil {
			return err
		}
		rogueKey, err := ecKey(ctx, "rogue-trainer-key", "P256")
		if err != nil {
			return err
		}
		rogue, err := issue(ctx, "rogue-trainer", rogueKey, rogueCa.CertPem, rogueCaKey, issued{
			commonName: fmt.Sprintf("trainer.%s.svc.%s", namespace, trustDomain),
			uris:       []string{spiffeID("trainer")},
			uses:       []string{"digital_signature", "client_auth"},
			hours:      leafHours,
		})
		if err != nil {
			return err
		}

		ctx.Export("root_ca_cert", rootCa.CertPem)
		ctx.Export("intermediate_ca_cert", interCa.CertPem)
		ctx.Export("trust_bundle", rootCa.CertPem) // what every peer trusts
		ctx.Export("chain", interCa.CertPem)       // sent after each leaf
		ctx.Export("expired_cert", expired.CertPem)
		ctx.Export("expired_key", pulumi.ToSecret(expiredKey.PrivateKeyPem))
		ctx.Export("rogue_cert", rogue.CertPem)
		ctx.Export("rogue_key", pulumi.ToSecret(rogueKey.PrivateKeyPem))
		ctx.Export("rogue_ca_cert", rogueCa.CertPem)
		ctx.Export("services", pulumi.ToStringArray(services))
		ctx.Export("trust_domain", pulumi.String(trustDomain))
		ctx.Export("namespace", pulumi.String(namespace))
		return nil
	})
}
