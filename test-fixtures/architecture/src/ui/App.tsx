// Allowed: ui imports React, d3, the stores and every room to its right.
import { useState } from 'react';
import { select } from 'd3';
import { scaleLinear } from 'd3-scale';
import { useStore } from '../state/store';
import { forward } from '../model/forward';
import { split } from '../tasks/split';
export const App = () => [useState, select, scaleLinear, useStore, forward, split];
