import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { type Observable, throwError } from 'rxjs';

/**
 * Nest's default RPC filter turns every unknown error into `{ status: 'error', message: 'Internal
 * server error' }`, which would erase our error codes. The BullMQ transport records the real error
 * (as `CODE: message`), so handlers' errors must reach it unchanged.
 */
@Catch()
export class PassThroughRpcExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
