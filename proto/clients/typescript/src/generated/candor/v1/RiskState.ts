// Original file: ../../candor/v1/candor.proto

export const RiskState = {
  RISK_STATE_UNSPECIFIED: 'RISK_STATE_UNSPECIFIED',
  RISK_STATE_CLEAR: 'RISK_STATE_CLEAR',
  RISK_STATE_INCONCLUSIVE: 'RISK_STATE_INCONCLUSIVE',
  RISK_STATE_SUSPICIOUS: 'RISK_STATE_SUSPICIOUS',
  RISK_STATE_ALERT: 'RISK_STATE_ALERT',
} as const;

export type RiskState =
  | 'RISK_STATE_UNSPECIFIED'
  | 0
  | 'RISK_STATE_CLEAR'
  | 1
  | 'RISK_STATE_INCONCLUSIVE'
  | 2
  | 'RISK_STATE_SUSPICIOUS'
  | 3
  | 'RISK_STATE_ALERT'
  | 4

export type RiskState__Output = typeof RiskState[keyof typeof RiskState]
