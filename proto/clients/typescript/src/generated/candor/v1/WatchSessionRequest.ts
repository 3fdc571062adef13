// Original file: ../../candor/v1/candor.proto


export interface WatchSessionRequest {
  'sessionId'?: (string);
}

export interface WatchSessionRequest__Output {
  'sessionId': (string);
}
