// Seed 003 in Go: a managed PKI for a distributed AI system on Vault's (or OpenBao's) PKI secrets
// engine - a mount, a root CA, a role and an issued node certificate - through the generated Go
// SDK. The same program as examples/seed-003-vault-pki (Python); see its README for what was
// corrected from the seed.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"zerotrust/sdk/go/zerotrust/vault"
	"zerotrust/sdk/go/zerotrust/vault/pkisecret"
)

// orDefault returns the config value for key, or fallback when it is unset.
func orDefault(cfg *config.Config, key, fallback string) string {
	if v := cfg.Get(key); v != "" {
		return v
	}
	return fallback
}

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		mountPath := orDefault(cfg, "mountPath", "pki")
		rootCommonName := orDefault(cfg, "rootCommonName", "ai-system-root")
		roleMaxTTL := orDefault(cfg, "roleMaxTtl", "720h")
		nodeName := orDefault(cfg, "nodeName", "node.ai-system.example.com")

		pki, err := vault.NewMount(ctx, "pkiSecretBackend", &vault.MountArgs{
			Path:                   pulumi.String(mountPath),
			Type:                   pulumi.String("pki"),
			Description:            pulumi.String("PKI backend to generate and manage certificates"),
			DefaultLeaseTtlSeconds: pulumi.Int(43800 * 3600), // 5 years
			MaxLeaseTtlSeconds:     pulumi.Int(87600 * 3600), // 10 years: caps the root's TTL too
		})
		if err != nil {
			return err
		}

		root, err := pkisecret.NewSecretBackendRootCert(ctx, "rootCert", &pkisecret.SecretBackendRootCertArgs{
			Backend:    pki.Path,
			Type:       pulumi.String("internal"),
			CommonName: pulumi.String(rootCommonName),
			Ttl:        pulumi.String("43800h"),
			KeyType:    pulumi.String("ec"),
			KeyBits:    pulumi.Int(384),
			IssuerName: pulumi.String("ai-system-root"),
		})
		if err != nil {
			return err
		}

		role, err := pkisecret.NewSecretBackendRole(ctx, "aiSystemRole", &pkisecret.SecretBackendRoleArgs{
			Backend:         pki.Path,
			Name:            pulumi.String("ai-system"),
			AllowedDomains:  pulumi.StringArray{pulumi.String("ai-system.example.com")},
			AllowSubdomains: pulumi.Bool(true),
			MaxTtl:          pulumi.String(roleMaxTTL),
			KeyType:         pulumi.String("ec"),
			KeyBits:         pulumi.Int(256),
			ServerFlag:      pulumi.Bool(true),
			ClientFlag:      pulumi.Bool(true),
		}, pulumi.DependsOn([]pulumi.Resource{root})) // issuing needs the root to exist
		if err != nil {
			return err
		}

		issued, err := pkisecret.NewSecretBackendCert(ctx, "aiSystemCert", &pkisecret.SecretBackendCertArgs{
			Backend:             pki.Path,
			Name:                role.Name,
			CommonName:          pulumi.String(nodeName),
			Ttl:                 pulumi.String("720h"), // 30 days
			Format:              pulumi.String("pem"),
			AutoRenew:           pulumi.Bool(true),
			MinSecondsRemaining: pulumi.Int(7 * 24 * 3600),
			Revoke:              pulumi.Bool(true),
		})
		if err != nil {
			return err
		}

		ctx.Export("certificate", issued.Certificate)
		ctx.Export("issuing_ca", issued.IssuingCa)
		ctx.Export("private_key", issued.PrivateKey)
		ctx.Export("serial_number", issued.SerialNumber)
		ctx.Export("root_certificate", root.Certificate)
		ctx.Export("mount_path", pki.Path)
		return nil
	})
}
