// A JVM service's side of mTLS, with a keystore made by zerotrust:tls:Pkcs12Bundle.
//
// Run with Java 17 or later, no build step:
//
//   java examples/ml-mtls/TlsClient.java <host> <port> <server-name> \
//        <keystore.p12> <password-file> <ca.pem>
//
// It loads the PKCS#12 keystore as its client identity, trusts only the CA certificates in
// ca.pem (not the JDK's default trust store), connects with SNI set to <server-name> and checks
// the server's certificate against that name as HTTPS clients do, then prints the first line the
// server sends and exits 0. Any failure prints the exception's class and message to stderr and
// exits 1. The password is read from a file (one trailing newline is ignored) so it never shows
// in a process listing, and it is never printed.

import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public class TlsClient {
    private static final int TIMEOUT_MILLIS = 15_000;

    public static void main(String[] args) {
        if (args.length != 6) {
            System.err.println(
                    "usage: java TlsClient.java <host> <port> <server-name> <keystore.p12> <password-file> <ca.pem>");
            System.exit(2);
        }
        try {
            String line = exchange(args[0], Integer.parseInt(args[1]), args[2], Path.of(args[3]),
                    Path.of(args[4]), Path.of(args[5]));
            System.out.println(line);
            System.exit(0);
        } catch (Exception e) {
            System.err.println(e.getClass().getName() + ": " + e.getMessage());
            System.exit(1);
        }
    }

    /** Connects, authenticates both ways, and returns the first line the server sends. */
    static String exchange(String host, int port, String serverName, Path keystore, Path passwordFile, Path caFile)
            throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(identity(keystore, passwordFile).getKeyManagers(), trust(caFile).getTrustManagers(), null);

        try (Socket raw = new Socket()) {
            raw.connect(new InetSocketAddress(host, port), TIMEOUT_MILLIS);
            raw.setSoTimeout(TIMEOUT_MILLIS);
            // The name given here is what SNI and hostname verification use, whatever <host> is.
            try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(raw, serverName, port, true)) {
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setServerNames(List.of(new SNIHostName(serverName)));
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                BufferedReader reader = new BufferedReader(
                        new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                String line = reader.readLine();
                if (line == null) {
                    throw new EOFException("the server closed the connection without sending a line");
                }
                return line;
            }
        }
    }

    /** The client identity: the keystore's private key entry, opened with the password. */
    static KeyManagerFactory identity(Path keystore, Path passwordFile) throws Exception {
        char[] password = readPassword(passwordFile);
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                store.load(in, password);
            }
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, password);
            return factory;
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    /** Trust in exactly the CA certificates of a PEM file. */
    static TrustManagerFactory trust(Path caFile) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        Collection<? extends Certificate> cas;
        try (InputStream in = Files.newInputStream(caFile)) {
            cas = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (cas.isEmpty()) {
            throw new CertificateException("no certificate in " + caFile);
        }
        int i = 0;
        for (Certificate ca : cas) {
            store.setCertificateEntry("ca-" + i++, ca);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return factory;
    }

    /** The file's content less one trailing line break. */
    static char[] readPassword(Path passwordFile) throws IOException {
        String text = Files.readString(passwordFile, StandardCharsets.UTF_8);
        if (text.endsWith("\r\n")) {
            text = text.substring(0, text.length() - 2);
        } else if (text.endsWith("\n")) {
            text = text.substring(0, text.length() - 1);
        }
        return text.toCharArray();
    }
}
