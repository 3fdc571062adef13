// Original file: ../../candor/v1/candor.proto


export interface AddToBlocklistRequest {
  'sessionId'?: (string);
  'candidateRef'?: (string);
  'label'?: (string);
  'reason'?: (string);
  'source'?: "sessionId"|"candidateRef";
}

export interface AddToBlocklistRequest__Output {
  'sessionId'?: (string);
  'candidateRef'?: (string);
  'label': (string);
  'reason': (string);
  'source'?: "sessionId"|"candidateRef";
}
