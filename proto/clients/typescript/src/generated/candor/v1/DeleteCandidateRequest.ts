// Original file: ../../candor/v1/candor.proto


export interface DeleteCandidateRequest {
  'candidateRef'?: (string);
}

export interface DeleteCandidateRequest__Output {
  'candidateRef': (string);
}
