// The trust layer between the services of distributed ML systems, as code: private keys, certificate authorities, mTLS identities and the policies that use them.
package zerotrust
