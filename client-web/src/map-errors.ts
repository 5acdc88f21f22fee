import { ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * An interceptor that passes every error of a call through `transform`: the error of the request, and
 * for a stream also the one that ends its replies.
 */
export function mapErrors(transform: (error: ConnectError) => ConnectError): Interceptor {
  const map = (reason: unknown) => transform(ConnectError.from(reason));
  return (next) => async (req) => {
    try {
      const response = await next(req);
      return response.stream ? { ...response, message: mapStreamErrors(response.message, map) } : response;
    } catch (reason) {
      throw map(reason);
    }
  };
}

async function* mapStreamErrors<T>(replies: AsyncIterable<T>, map: (reason: unknown) => ConnectError) {
  try {
    yield* replies;
  } catch (reason) {
    throw map(reason);
  }
}
