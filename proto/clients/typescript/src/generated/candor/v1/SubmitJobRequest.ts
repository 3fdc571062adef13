// Original file: ../../candor/v1/candor.proto


export interface SubmitJobRequest {
  'paths'?: (string)[];
  'jobId'?: (string);
  'force'?: (boolean);
  '_jobId'?: "jobId";
}

export interface SubmitJobRequest__Output {
  'paths': (string)[];
  'jobId'?: (string);
  'force': (boolean);
  '_jobId'?: "jobId";
}
