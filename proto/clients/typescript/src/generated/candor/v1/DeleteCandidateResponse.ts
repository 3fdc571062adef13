// Original file: ../../candor/v1/candor.proto


export interface DeleteCandidateResponse {
  'sessions'?: (number);
  'enrolments'?: (number);
  'blocklistEntries'?: (number);
}

export interface DeleteCandidateResponse__Output {
  'sessions': (number);
  'enrolments': (number);
  'blocklistEntries': (number);
}
