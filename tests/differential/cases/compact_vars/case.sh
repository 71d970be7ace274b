# shellcheck shell=bash disable=SC2034  # sourced by tests/differential/run.sh
# Single file, funz-fz 1.2 compact variables syntax 'a=1,b=[4,5,6],c=[0;1]':
# int/float/string scalars, list split on ',' and ';', and a formula.
input=input.txt
args=(-v 'a=1,b=[4,5.5,6],c=[0;1],d=text,e=2.50')
