echo''')
s=s.replace('''# runs.log sits two levels above a case's work directory only while the case
# runs in .results.fz-work/<case>; point it at the scratch root instead.
sed -i "s#../../runs.log#$work/runs.log#" calc.sh

''','')
open(p,'w').write(s)
