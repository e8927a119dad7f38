import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where a phone downloads the CA certificate to trust it (see docs/pwa.md). */
export const CA_CERT_PATH = '/ferry-ca.crt';
/** The page that explains the download and shows the fingerprint to check it by. */
export const CA_PAGE_PATH = '/ferry-ca.html';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * The download page. The certificate travels over a connection the phone does not trust
 * yet, so the page asks to compare its fingerprint with the one the server printed on
 * the computer's terminal: a page altered on the way could show any fingerprint, the
 * terminal cannot. Plain HTML with no inline script or style, within the app's CSP.
 */
function downloadPage(fingerprint: string): string {
  const shown = escapeHtml(fingerprint);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trust this Ferry server</title>
</head>
<body>
<h1>Trust this Ferry server</h1>
<p>This Ferry server uses a certificate authority made on the computer it runs on. It can
vouch only for names and addresses on a local network (private addresses,
<code>localhost</code>, <code>.local</code> names and the computer's own name), never for
another website.</p>
<p><a href="${CA_CERT_PATH}" download="ferry-ca.crt">Download the certificate</a></p>
<p>Before you trust it, check that its SHA-256 fingerprint is exactly the one Ferry printed
on the computer's terminal when it started:</p>
<p><code>${shown}</code></p>
<p>Android: Settings, Security, Encryption &amp; credentials, Install a certificate, CA
certificate. iPhone and iPad: install the downloaded profile in Settings, then turn it on
under General, About, Certificate Trust Settings.</p>
</body>
</html>
`;
}

/**
 * Serves the CA certificate at CA_CERT_PATH and its download page at CA_PAGE_PATH;
 * answers false for any other path.
 */
export function caDownloadRoute(caCert: string, fingerprint: string) {
  const page = downloadPage(fingerprint);
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '').split('?')[0];
    if (path === CA_CERT_PATH) {
      res.writeHead(200, {
        // This type makes iOS Safari offer the certificate as a profile to install.
        'Content-Type': 'application/x-x509-ca-cert',
        'Cache-Control': 'no-store',
      });
      res.end(caCert);
      return true;
    }
    if (path === CA_PAGE_PATH) {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
      });
      res.end(page);
      return true;
    }
    return false;
  };
}
