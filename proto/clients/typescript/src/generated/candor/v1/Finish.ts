// Original file: ../../candor/v1/candor.proto


export interface Finish {
}

export interface Finish__Output {
}
