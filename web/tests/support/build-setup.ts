/**
 * Vitest globalSetup of the `web` and `e2e` projects: one production build
 * (`next build`, skipped while a build newer than the sources exists) before
 * any test file starts `next start`. The browser test needs none when
 * E2E_WEB_URL points it at an app that is already running.
 */
import type { TestProject } from "vitest/node";
import { ensureProductionBuild } from "./web";

export default async function setup(project: TestProject) {
  if (project.name === "e2e" && process.env.E2E_WEB_URL?.trim()) return;
  await ensureProductionBuild();
}
