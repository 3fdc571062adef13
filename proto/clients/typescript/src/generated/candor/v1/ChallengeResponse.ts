// Original file: ../../candor/v1/candor.proto


export interface ChallengeResponse {
  'challengeId'?: (string);
  'instruction'?: (string);
  'windowMs'?: (number);
}

export interface ChallengeResponse__Output {
  'challengeId': (string);
  'instruction': (string);
  'windowMs': (number);
}
