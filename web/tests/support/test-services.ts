/**
 * The tear-down every test file that starts processes needs, registered in
 * one call. Apart from services.ts because it registers vitest hooks: the
 * `web` and `e2e` projects' globalSetup imports services.ts (through web.ts),
 * and vitest's hooks cannot be imported there.
 */
import { afterAll, afterEach } from "vitest";
import { Services } from "./services";

/**
 * The Services of one test file (or one describe block): call it at the top
 * level of either. Registers the tear-down every such file needs: after all its
 * tests, the processes are stopped — keeping the logs and printing their last
 * lines if any test failed — and then `afterStop` runs (closing servers,
 * databases, or whatever else the file opened).
 */
export function testServices(prefix: string, afterStop?: () => unknown): Services {
  const services = new Services(prefix);
  let failed = false;
  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") failed = true;
  });
  afterAll(async () => {
    await services.stop({ failed });
    await afterStop?.();
  });
  return services;
}
