package nats

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"time"

	"github.com/vigil-elections/vigil"
)

// GenerateMirrorCert writes a self-signed ECDSA P-256 certificate and key
// for the hub's mirror listener, valid for hosts (names or IP addresses)
// for ten years. Mirrors pin it: the credential a hub issues carries the
// certificate, and a mirror accepts no other. An operator who has a
// certificate from their own CA uses that instead (`vigil mirror allow
// --tls-cert/--tls-key`) and gives mirrors the CA.
func GenerateMirrorCert(certFile, keyFile string, hosts []string, now time.Time) error {
	const op = "nats.mirror_cert"
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "vigil hub mirror listener", Organization: []string{"vigil"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // self-signed: it is its own root for the mirrors that pin it
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	return nil
}
