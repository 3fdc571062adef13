// Original file: ../../candor/v1/candor.proto


export interface CreateViewLinkRequest {
  'sessionId'?: (string);
  'interviewRef'?: (string);
  'ttlS'?: (number);
  'allowChallenges'?: (boolean);
  'scope'?: "sessionId"|"interviewRef";
  '_ttlS'?: "ttlS";
}

export interface CreateViewLinkRequest__Output {
  'sessionId'?: (string);
  'interviewRef'?: (string);
  'ttlS'?: (number);
  'allowChallenges': (boolean);
  'scope'?: "sessionId"|"interviewRef";
  '_ttlS'?: "ttlS";
}
