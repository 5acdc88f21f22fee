// The gRPC-Web header and trailer names this client reads or writes, one home for each.
export const headerContentType = "content-type";
export const headerXGrpcWeb = "x-grpc-web";
export const headerTimeout = "grpc-timeout";
export const headerEncoding = "grpc-encoding";
export const headerAcceptEncoding = "grpc-accept-encoding";
export const headerStatus = "grpc-status";
export const headerMessage = "grpc-message";
export const headerStatusDetails = "grpc-status-details-bin";
export const headerLocation = "location";

/** The request's content type: binary gRPC-Web, the one format this client speaks. */
export const contentTypeProto = "application/grpc-web+proto";
