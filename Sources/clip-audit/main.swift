import CLIPEngine
print("clip-audit \(CLIPEngineInfo.version)")
