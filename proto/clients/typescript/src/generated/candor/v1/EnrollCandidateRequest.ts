// Original file: ../../candor/v1/candor.proto


export interface EnrollCandidateRequest {
  'candidateRef'?: (string);
  'photo'?: (Buffer | Uint8Array | string);
}

export interface EnrollCandidateRequest__Output {
  'candidateRef': (string);
  'photo': (Buffer);
}
