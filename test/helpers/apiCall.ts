/** One validated API call against a data directory, as the CLI makes it; the workbench is closed after. */
import type { MethodName, RequestOf, ResponseOf } from '../../src/shared/contract';
import { withWorkbench } from '../../src/main/cli/context';

export async function dispatchOnce<M extends MethodName>(dataDir: string, method: M, request: RequestOf<M>): Promise<ResponseOf<M>> {
  return withWorkbench({ dataDir, quiet: true }, (cli) => cli.call(method, request));
}
