import type { Metadata } from "next";
import { connection } from "next/server";
import "./globals.css";

export const metadata: Metadata = {
  title: "Todo",
  description: "A small multi-user todo list",
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Every page is rendered per request, so Next can put this response's CSP
  // nonce (src/proxy.ts) on its scripts; a page prerendered at build time
  // would carry none and its scripts would be refused.
  await connection();
  return (
    <html lang="en">
      <body>
        <div className="shell">{children}</div>
      </body>
    </html>
  );
}
