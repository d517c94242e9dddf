import { AppError } from '../../core/errors.js';

/** The answer of a route whose input is validated but whose capability is not built yet. */
export function notImplemented(capability: string): never {
  throw new AppError('not_implemented', `${capability} is not available yet in this version of the service.`);
}
