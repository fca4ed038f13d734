"""Names for the demo group: real-sounding pharmaceutical materials, companies and partners.

Everything here is invented for demonstration; the material names are common generic
(INN) substances, excipients and packaging components.
"""

from __future__ import annotations

# (city zh, city en, administrative division code used in unified social credit codes)
CITIES = [
    ("杭州", "Hangzhou", "330100"), ("台州", "Taizhou", "331000"), ("绍兴", "Shaoxing", "330600"),
    ("石家庄", "Shijiazhuang", "130100"), ("济南", "Jinan", "370100"), ("成都", "Chengdu", "510100"),
    ("武汉", "Wuhan", "420100"), ("长沙", "Changsha", "430100"), ("南京", "Nanjing", "320100"),
    ("苏州", "Suzhou", "320500"), ("合肥", "Hefei", "340100"), ("郑州", "Zhengzhou", "410100"),
    ("西安", "Xi'an", "610100"), ("重庆", "Chongqing", "500100"), ("广州", "Guangzhou", "440100"),
    ("深圳", "Shenzhen", "440300"), ("厦门", "Xiamen", "350200"), ("福州", "Fuzhou", "350100"),
    ("南昌", "Nanchang", "360100"), ("昆明", "Kunming", "530100"), ("哈尔滨", "Harbin", "230100"),
    ("沈阳", "Shenyang", "210100"), ("大连", "Dalian", "210200"), ("青岛", "Qingdao", "370200"),
    ("天津", "Tianjin", "120100"), ("北京", "Beijing", "110100"), ("上海", "Shanghai", "310100"),
    ("兰州", "Lanzhou", "620100"), ("南宁", "Nanning", "450100"), ("贵阳", "Guiyang", "520100"),
]

SEGMENTS = [
    ("API", "原料药事业部", "Active Pharmaceutical Ingredients"),
    ("FORM", "制剂事业部", "Finished Formulations"),
    ("DIST", "医药流通事业部", "Pharma Distribution"),
]

# How each segment's companies are named: (zh template, en template)
COMPANY_NAMES = {
    "API": ("合一原料药（{city}）有限公司", "Heyi API ({city}) Co., Ltd."),
    "FORM": ("合一制药（{city}）有限公司", "Heyi Pharmaceutical ({city}) Co., Ltd."),
    "DIST": ("合一医药（{city}）有限公司", "Heyi Pharma Distribution ({city}) Co., Ltd."),
}

# (code, zh, en, temp_min, temp_max, max_humidity)
WAREHOUSE_KINDS = [
    ("AMB", "常温库", "Ambient store", "10", "30", "75"),
    ("COOL", "阴凉库", "Cool store", "8", "15", "65"),
    ("COLD", "冷藏库", "Cold store", "2", "8", "60"),
]

UNITS = [
    ("KG", "千克", "kilogram", 3), ("G", "克", "gram", 2), ("L", "升", "litre", 3),
    ("EA", "个", "each", 0), ("BOX", "盒", "box", 0), ("BTL", "瓶", "bottle", 0),
    ("ROLL", "卷", "roll", 0), ("M2", "平方米", "square metre", 2), ("VIAL", "支", "vial", 0),
    ("CTN", "箱", "carton", 0),
]

# Storage requirement profiles: (temp_min, temp_max, max_humidity)
BELOW_30 = (None, "30", "75")
BELOW_20 = (None, "20", "65")
COLD_2_8 = ("2", "8", None)
ANY = (None, None, None)

# Active pharmaceutical ingredients: (code suffix, zh, en, storage, shelf life days, scope)
APIS = [
    ("AMOX", "阿莫西林", "Amoxicillin trihydrate", BELOW_20, 1095, "central"),
    ("CEFTR", "头孢曲松钠", "Ceftriaxone sodium", BELOW_20, 1095, "central"),
    ("PARA", "对乙酰氨基酚", "Paracetamol", BELOW_30, 1825, "central"),
    ("IBU", "布洛芬", "Ibuprofen", BELOW_30, 1825, "central"),
    ("ASA", "阿司匹林", "Acetylsalicylic acid", BELOW_20, 1095, "central"),
    ("METF", "盐酸二甲双胍", "Metformin hydrochloride", BELOW_30, 1825, "central"),
    ("ATOR", "阿托伐他汀钙", "Atorvastatin calcium", BELOW_20, 1095, "central"),
    ("AMLO", "苯磺酸氨氯地平", "Amlodipine besylate", BELOW_30, 1460, "central"),
    ("OMEP", "奥美拉唑", "Omeprazole", BELOW_20, 730, "central"),
    ("LEVO", "左氧氟沙星", "Levofloxacin hemihydrate", BELOW_30, 1460, "central"),
    ("AZIT", "阿奇霉素", "Azithromycin dihydrate", BELOW_30, 1460, "central"),
    ("CLAR", "克拉霉素", "Clarithromycin", BELOW_30, 1460, "central"),
    ("CEPH", "头孢氨苄", "Cefalexin monohydrate", BELOW_20, 1095, "central"),
    ("CEFU", "头孢呋辛酯", "Cefuroxime axetil", BELOW_20, 1095, "central"),
    ("CLOP", "硫酸氢氯吡格雷", "Clopidogrel bisulfate", BELOW_20, 1095, "central"),
    ("ROSU", "瑞舒伐他汀钙", "Rosuvastatin calcium", BELOW_20, 1095, "central"),
    ("VALS", "缬沙坦", "Valsartan", BELOW_30, 1460, "central"),
    ("IRBE", "厄贝沙坦", "Irbesartan", BELOW_30, 1460, "central"),
    ("LOSA", "氯沙坦钾", "Losartan potassium", BELOW_30, 1460, "central"),
    ("NIFE", "硝苯地平", "Nifedipine", BELOW_20, 1095, "central"),
    ("METO", "酒石酸美托洛尔", "Metoprolol tartrate", BELOW_30, 1460, "central"),
    ("GLIM", "格列美脲", "Glimepiride", BELOW_30, 1460, "central"),
    ("GLIC", "格列齐特", "Gliclazide", BELOW_30, 1460, "central"),
    ("ACAR", "阿卡波糖", "Acarbose", BELOW_20, 1095, "central"),
    ("LANS", "兰索拉唑", "Lansoprazole", BELOW_20, 730, "central"),
    ("PANT", "泮托拉唑钠", "Pantoprazole sodium sesquihydrate", BELOW_20, 1095, "central"),
    ("DOMP", "多潘立酮", "Domperidone", BELOW_30, 1460, "local"),
    ("AMBR", "盐酸氨溴索", "Ambroxol hydrochloride", BELOW_30, 1460, "local"),
    ("DEXM", "氢溴酸右美沙芬", "Dextromethorphan hydrobromide", BELOW_30, 1460, "local"),
    ("LORA", "氯雷他定", "Loratadine", BELOW_30, 1460, "local"),
    ("CETI", "盐酸西替利嗪", "Cetirizine dihydrochloride", BELOW_30, 1460, "local"),
    ("MONT", "孟鲁司特钠", "Montelukast sodium", BELOW_20, 730, "central"),
    ("DEXA", "地塞米松磷酸钠", "Dexamethasone sodium phosphate", BELOW_20, 1095, "local"),
    ("PRED", "醋酸泼尼松", "Prednisone acetate", BELOW_30, 1460, "local"),
    ("METR", "甲硝唑", "Metronidazole", BELOW_30, 1825, "local"),
    ("FLUC", "氟康唑", "Fluconazole", BELOW_30, 1460, "central"),
    ("ACIC", "阿昔洛韦", "Aciclovir", BELOW_30, 1460, "local"),
    ("OSEL", "磷酸奥司他韦", "Oseltamivir phosphate", BELOW_30, 1460, "central"),
    ("ENTE", "恩替卡韦", "Entecavir monohydrate", BELOW_20, 1095, "central"),
    ("TENO", "富马酸替诺福韦二吡呋酯", "Tenofovir disoproxil fumarate", BELOW_20, 1095, "central"),
    ("LAMI", "拉米夫定", "Lamivudine", BELOW_30, 1460, "central"),
    ("VITC", "维生素C", "Ascorbic acid", BELOW_20, 1095, "central"),
    ("VITB1", "维生素B1", "Thiamine hydrochloride", BELOW_30, 1460, "local"),
    ("VITB6", "维生素B6", "Pyridoxine hydrochloride", BELOW_30, 1460, "local"),
    ("FOLA", "叶酸", "Folic acid", BELOW_20, 1095, "local"),
    ("HEPA", "肝素钠", "Heparin sodium", COLD_2_8, 1095, "central"),
    ("INSU", "重组人胰岛素", "Recombinant human insulin", COLD_2_8, 730, "central"),
    ("CARB", "卡马西平", "Carbamazepine", BELOW_30, 1460, "local"),
    ("VALP", "丙戊酸钠", "Sodium valproate", BELOW_20, 1095, "local"),
    ("SERT", "盐酸舍曲林", "Sertraline hydrochloride", BELOW_30, 1460, "central"),
    ("OLAN", "奥氮平", "Olanzapine", BELOW_30, 1460, "central"),
    ("RISP", "利培酮", "Risperidone", BELOW_30, 1460, "central"),
    ("ESOM", "埃索美拉唑镁", "Esomeprazole magnesium trihydrate", BELOW_20, 730, "central"),
    ("ENAL", "马来酸依那普利", "Enalapril maleate", BELOW_30, 1460, "local"),
    ("CAPT", "卡托普利", "Captopril", BELOW_30, 1460, "local"),
    ("SITA", "磷酸西格列汀", "Sitagliptin phosphate", BELOW_30, 1095, "central"),
    ("TICA", "替格瑞洛", "Ticagrelor", BELOW_30, 1095, "central"),
    ("RIVA", "利伐沙班", "Rivaroxaban", BELOW_30, 1095, "central"),
    ("DAPA", "达格列净", "Dapagliflozin propanediol", BELOW_20, 1095, "central"),
    ("MOXI", "盐酸莫西沙星", "Moxifloxacin hydrochloride", BELOW_30, 1460, "central"),
]

# Excipients: (code suffix, zh, en, storage, shelf life days, scope)
EXCIPIENTS = [
    ("MCC101", "微晶纤维素 PH101", "Microcrystalline cellulose PH101", BELOW_30, 1825, "central"),
    ("MCC102", "微晶纤维素 PH102", "Microcrystalline cellulose PH102", BELOW_30, 1825, "central"),
    ("LACT", "乳糖一水合物", "Lactose monohydrate", BELOW_30, 1095, "central"),
    ("LACTSD", "喷雾干燥乳糖", "Spray-dried lactose", BELOW_30, 1095, "central"),
    ("STAR", "玉米淀粉", "Maize starch", BELOW_30, 1095, "local"),
    ("PGST", "预胶化淀粉", "Pregelatinised starch", BELOW_30, 1095, "central"),
    ("CRPV", "交联聚维酮", "Crospovidone", BELOW_30, 1095, "central"),
    ("CCS", "交联羧甲基纤维素钠", "Croscarmellose sodium", BELOW_30, 1095, "central"),
    ("SSG", "羧甲基淀粉钠", "Sodium starch glycolate", BELOW_30, 1095, "central"),
    ("MGST", "硬脂酸镁", "Magnesium stearate", BELOW_30, 1095, "central"),
    ("SIO2", "胶态二氧化硅", "Colloidal silicon dioxide", BELOW_30, 1825, "central"),
    ("HPMCE5", "羟丙甲纤维素 E5", "Hypromellose E5", BELOW_30, 1095, "central"),
    ("HPMCK4", "羟丙甲纤维素 K4M", "Hypromellose K4M", BELOW_30, 1095, "central"),
    ("PVPK30", "聚维酮 K30", "Povidone K30", BELOW_30, 1095, "central"),
    ("MANN", "甘露醇", "Mannitol", BELOW_30, 1825, "central"),
    ("SUCR", "蔗糖", "Sucrose", BELOW_30, 1095, "local"),
    ("TALC", "滑石粉", "Talc", BELOW_30, 1825, "local"),
    ("TIO2", "二氧化钛", "Titanium dioxide", BELOW_30, 1825, "central"),
    ("PEG4K", "聚乙二醇 4000", "Macrogol 4000", BELOW_30, 1095, "local"),
    ("CITR", "无水枸橼酸", "Citric acid anhydrous", BELOW_30, 1095, "local"),
    ("NAHCO3", "碳酸氢钠", "Sodium bicarbonate", BELOW_30, 1095, "local"),
    ("NACL", "注射用氯化钠", "Sodium chloride for injection", BELOW_30, 1825, "local"),
    ("ETOH", "乙醇 95%", "Ethanol 95%", BELOW_30, 1095, "local"),
    ("PG", "丙二醇", "Propylene glycol", BELOW_30, 1095, "local"),
    ("GLYC", "甘油", "Glycerol", BELOW_30, 1095, "local"),
    ("GELA", "明胶", "Gelatin", BELOW_20, 1095, "central"),
    ("OPAW", "欧巴代白色包衣粉", "Opadry white film coating", BELOW_30, 730, "central"),
    ("OPAY", "欧巴代黄色包衣粉", "Opadry yellow film coating", BELOW_30, 730, "central"),
    ("SLS", "十二烷基硫酸钠", "Sodium lauryl sulfate", BELOW_30, 1095, "local"),
    ("POLY80", "聚山梨酯80", "Polysorbate 80", BELOW_20, 730, "local"),
]

# Intermediates: (code suffix, zh, en, storage, shelf life days, scope)
INTERMEDIATES = [
    ("6APA", "6-氨基青霉烷酸", "6-Aminopenicillanic acid (6-APA)", BELOW_20, 730, "central"),
    ("7ACA", "7-氨基头孢烷酸", "7-Aminocephalosporanic acid (7-ACA)", BELOW_20, 730, "central"),
    ("7ADCA", "7-氨基去乙酰氧基头孢烷酸", "7-ADCA", BELOW_20, 730, "central"),
    ("GCLE", "GCLE 头孢中间体", "GCLE cephalosporin intermediate", BELOW_20, 365, "central"),
    ("DANE", "对羟基苯甘氨酸邓钾盐", "D-(-)-p-hydroxyphenylglycine Dane salt", BELOW_30, 730, "central"),
    ("ATORM", "阿托伐他汀侧链 M4", "Atorvastatin side chain M4", BELOW_20, 365, "central"),
    ("ROSUZ", "瑞舒伐他汀中间体 Z9", "Rosuvastatin intermediate Z9", BELOW_20, 365, "local"),
    ("VALSM", "缬沙坦甲酯", "Valsartan methyl ester", BELOW_30, 365, "local"),
    ("OMEPS", "奥美拉唑硫醚", "Omeprazole sulfide", BELOW_20, 365, "local"),
    ("CLOPA", "氯吡格雷拆分物", "Clopidogrel resolved acid", BELOW_20, 365, "local"),
    ("AMOXG", "阿莫西林颗粒", "Amoxicillin granules (bulk)", BELOW_20, 365, "local"),
    ("PARAG", "对乙酰氨基酚颗粒", "Paracetamol granules (bulk)", BELOW_30, 365, "local"),
    ("METFG", "二甲双胍颗粒", "Metformin granules (bulk)", BELOW_30, 365, "local"),
    ("IBUP", "布洛芬缓释微丸", "Ibuprofen sustained-release pellets", BELOW_20, 365, "local"),
    ("OMEPP", "奥美拉唑肠溶微丸", "Omeprazole enteric-coated pellets", BELOW_20, 365, "local"),
]

# Packaging: (code, zh, en, unit, scope)
PACKAGING = [
    ("PVC250", "药用PVC硬片 250μm", "Pharmaceutical PVC film 250 µm", "KG", "central"),
    ("PVDC", "PVC/PVDC复合硬片", "PVC/PVDC laminated film", "KG", "central"),
    ("ALPTP", "药用铝箔 PTP 20μm", "Pharmaceutical aluminium foil PTP 20 µm", "KG", "central"),
    ("ALCF", "冷冲压成型铝 OPA/AL/PVC", "Cold-form foil OPA/Al/PVC", "KG", "central"),
    ("HDPE30", "高密度聚乙烯药用瓶 30ml", "HDPE bottle 30 ml", "EA", "local"),
    ("HDPE60", "高密度聚乙烯药用瓶 60ml", "HDPE bottle 60 ml", "EA", "local"),
    ("HDPE100", "高密度聚乙烯药用瓶 100ml", "HDPE bottle 100 ml", "EA", "local"),
    ("CRC28", "儿童安全瓶盖 28mm", "Child-resistant closure 28 mm", "EA", "local"),
    ("VIAL2", "中性硼硅玻璃管制注射剂瓶 2ml", "Neutral borosilicate tubular vial 2 ml", "EA", "central"),
    ("VIAL5", "中性硼硅玻璃管制注射剂瓶 5ml", "Neutral borosilicate tubular vial 5 ml", "EA", "central"),
    ("VIAL10", "中性硼硅玻璃管制注射剂瓶 10ml", "Neutral borosilicate tubular vial 10 ml", "EA", "central"),
    ("STOP13", "注射液用溴化丁基橡胶塞 13mm", "Bromobutyl rubber stopper 13 mm", "EA", "central"),
    ("STOP20", "注射液用溴化丁基橡胶塞 20mm", "Bromobutyl rubber stopper 20 mm", "EA", "central"),
    ("FLIP13", "铝塑组合盖 13mm", "Flip-off aluminium-plastic seal 13 mm", "EA", "local"),
    ("FLIP20", "铝塑组合盖 20mm", "Flip-off aluminium-plastic seal 20 mm", "EA", "local"),
    ("AMP1", "安瓿 1ml", "Glass ampoule 1 ml", "EA", "central"),
    ("AMP2", "安瓿 2ml", "Glass ampoule 2 ml", "EA", "central"),
    ("AMP5", "安瓿 5ml", "Glass ampoule 5 ml", "EA", "central"),
    ("CAPS0", "空心胶囊 0号", "Hard gelatin capsule size 0", "EA", "central"),
    ("CAPS1", "空心胶囊 1号", "Hard gelatin capsule size 1", "EA", "central"),
    ("CAPS2", "空心胶囊 2号", "Hard gelatin capsule size 2", "EA", "central"),
    ("LEAF", "药品说明书", "Patient information leaflet", "EA", "local"),
    ("CART", "药品小盒", "Folding carton", "EA", "local"),
    ("SHIP", "瓦楞纸箱 五层", "Corrugated shipping case, 5-ply", "EA", "local"),
    ("LABEL", "不干胶标签", "Self-adhesive label", "ROLL", "local"),
    ("DESI", "药用干燥剂 1g", "Pharmaceutical desiccant 1 g", "EA", "local"),
    ("COTT", "药用棉花", "Pharmaceutical cotton coil", "KG", "local"),
    ("IVBAG", "非PVC输液袋 250ml", "Non-PVC infusion bag 250 ml", "EA", "central"),
    ("PEBAG", "药用低密度聚乙烯袋", "Pharmaceutical LDPE bag", "EA", "local"),
    ("DRUM", "纸板桶 50L", "Fibre drum 50 L", "EA", "local"),
]

# Finished dosage forms made from APIs above: (API code suffix, form zh, form en, strength, pack)
FINISHED = [
    ("AMOX", "胶囊", "capsules", "0.25g", 24), ("AMOX", "分散片", "dispersible tablets", "0.5g", 12),
    ("CEFTR", "注射用", "for injection", "1.0g", 10), ("PARA", "片", "tablets", "0.5g", 20),
    ("IBU", "缓释胶囊", "sustained-release capsules", "0.3g", 20), ("ASA", "肠溶片", "enteric tablets", "100mg", 30),
    ("METF", "片", "tablets", "0.5g", 60), ("METF", "缓释片", "extended-release tablets", "0.5g", 30),
    ("ATOR", "片", "tablets", "20mg", 14), ("AMLO", "片", "tablets", "5mg", 28),
    ("OMEP", "肠溶胶囊", "gastro-resistant capsules", "20mg", 14), ("LEVO", "片", "tablets", "0.5g", 10),
    ("LEVO", "氯化钠注射液", "in sodium chloride infusion", "0.5g/100ml", 1), ("AZIT", "片", "tablets", "0.25g", 6),
    ("CLAR", "缓释片", "extended-release tablets", "0.5g", 6), ("CEPH", "胶囊", "capsules", "0.25g", 24),
    ("CEFU", "片", "tablets", "0.25g", 12), ("CLOP", "片", "tablets", "75mg", 7),
    ("ROSU", "片", "tablets", "10mg", 28), ("VALS", "胶囊", "capsules", "80mg", 28),
    ("IRBE", "片", "tablets", "150mg", 28), ("LOSA", "片", "tablets", "50mg", 28),
    ("NIFE", "控释片", "controlled-release tablets", "30mg", 14), ("METO", "片", "tablets", "25mg", 20),
    ("GLIM", "片", "tablets", "2mg", 30), ("GLIC", "缓释片", "modified-release tablets", "30mg", 30),
    ("ACAR", "片", "tablets", "50mg", 30), ("LANS", "肠溶胶囊", "gastro-resistant capsules", "30mg", 14),
    ("PANT", "注射用", "for injection", "40mg", 1), ("DOMP", "片", "tablets", "10mg", 30),
    ("AMBR", "口服溶液", "oral solution", "0.3g/100ml", 1), ("DEXM", "糖浆", "syrup", "0.15g/100ml", 1),
    ("LORA", "片", "tablets", "10mg", 6), ("CETI", "片", "tablets", "10mg", 12),
    ("MONT", "咀嚼片", "chewable tablets", "5mg", 5), ("DEXA", "注射液", "injection", "5mg/1ml", 10),
    ("METR", "氯化钠注射液", "in sodium chloride infusion", "0.5g/100ml", 1), ("FLUC", "胶囊", "capsules", "150mg", 1),
    ("ACIC", "乳膏", "cream", "3%/10g", 1), ("OSEL", "胶囊", "capsules", "75mg", 10),
    ("ENTE", "片", "tablets", "0.5mg", 28), ("TENO", "片", "tablets", "300mg", 30),
    ("VITC", "泡腾片", "effervescent tablets", "1g", 10), ("HEPA", "注射液", "injection", "12500IU/2ml", 10),
    ("INSU", "注射液", "injection", "400IU/10ml", 1), ("CARB", "片", "tablets", "0.1g", 100),
    ("SERT", "片", "tablets", "50mg", 14), ("OLAN", "片", "tablets", "10mg", 14),
    ("ESOM", "肠溶片", "gastro-resistant tablets", "20mg", 14), ("SITA", "片", "tablets", "100mg", 14),
    ("TICA", "片", "tablets", "90mg", 14), ("RIVA", "片", "tablets", "10mg", 10),
    ("DAPA", "片", "tablets", "10mg", 14), ("MOXI", "片", "tablets", "0.4g", 3),
]

# Trade goods bought in by the distribution companies: (code, zh, en, unit, storage, scope)
TRADE_GOODS = [
    ("GLUCS", "血糖试纸 50片", "Blood glucose test strips, 50", "BOX", BELOW_30, "local"),
    ("MASK", "医用外科口罩 50只", "Surgical masks, 50", "BOX", ANY, "central"),
    ("N95", "医用防护口罩 N95 20只", "N95 respirators, 20", "BOX", ANY, "central"),
    ("SYR5", "一次性使用无菌注射器 5ml", "Sterile single-use syringe 5 ml", "EA", ANY, "central"),
    ("SYR10", "一次性使用无菌注射器 10ml", "Sterile single-use syringe 10 ml", "EA", ANY, "central"),
    ("IVSET", "一次性输液器", "Single-use infusion set", "EA", ANY, "central"),
    ("THERM", "电子体温计", "Digital thermometer", "EA", ANY, "local"),
    ("BPM", "上臂式电子血压计", "Upper-arm blood pressure monitor", "EA", ANY, "local"),
    ("GAUZE", "医用纱布块", "Medical gauze swabs", "BOX", ANY, "local"),
    ("BAND", "医用弹性绷带", "Elastic bandage", "ROLL", ANY, "local"),
    ("GLOVE", "一次性使用医用橡胶检查手套", "Examination gloves, latex", "BOX", ANY, "central"),
    ("ALCP", "酒精棉片", "Alcohol prep pads", "BOX", BELOW_30, "local"),
    ("IODO", "碘伏消毒液 500ml", "Povidone-iodine solution 500 ml", "BTL", BELOW_30, "local"),
    ("HBVAC", "乙型肝炎疫苗", "Hepatitis B vaccine", "VIAL", COLD_2_8, "central"),
    ("FLUVAC", "流感病毒裂解疫苗", "Influenza split vaccine", "VIAL", COLD_2_8, "central"),
    ("RABVAC", "人用狂犬病疫苗", "Rabies vaccine for human use", "VIAL", COLD_2_8, "central"),
    ("ALBU", "人血白蛋白 10g", "Human albumin 10 g", "BTL", COLD_2_8, "central"),
    ("IVIG", "静注人免疫球蛋白", "Human immunoglobulin for IV use", "BTL", COLD_2_8, "central"),
    ("OMEGA", "鱼油软胶囊", "Fish oil soft capsules", "BTL", BELOW_20, "local"),
    ("CALC", "碳酸钙D3片", "Calcium carbonate and vitamin D3 tablets", "BTL", BELOW_30, "local"),
    ("ORS", "口服补液盐散", "Oral rehydration salts", "BOX", BELOW_30, "local"),
    ("ANTIG", "新冠抗原检测试剂盒", "SARS-CoV-2 antigen test kit", "BOX", BELOW_30, "local"),
    ("PREG", "早早孕检测试纸", "Pregnancy test strips", "BOX", BELOW_30, "local"),
    ("INSPEN", "胰岛素笔用针头", "Insulin pen needles", "BOX", ANY, "local"),
    ("NEBU", "医用雾化器", "Medical nebuliser", "EA", ANY, "local"),
]

SUPPLIER_WORDS = [
    ("华康", "Huakang"), ("瑞丰", "Ruifeng"), ("恒瑞达", "Hengruida"), ("鼎信", "Dingxin"), ("康泰", "Kangtai"),
    ("海正源", "Haizhengyuan"), ("新华晨", "Xinhuachen"), ("金石", "Jinshi"), ("天宇", "Tianyu"), ("博源", "Boyuan"),
    ("永安", "Yong'an"), ("益生", "Yisheng"), ("联合", "Lianhe"), ("东方", "Dongfang"), ("润和", "Runhe"),
    ("长风", "Changfeng"), ("青松", "Qingsong"), ("九州", "Jiuzhou"), ("明德", "Mingde"), ("华特", "Huate"),
]
SUPPLIER_KINDS = [
    ("医药化工有限公司", "Pharmaceutical Chemicals Co., Ltd."),
    ("药用辅料有限公司", "Pharmaceutical Excipients Co., Ltd."),
    ("药用包装材料有限公司", "Pharmaceutical Packaging Co., Ltd."),
    ("生物科技股份有限公司", "Biotech Co., Ltd."),
    ("医疗器械有限公司", "Medical Devices Co., Ltd."),
]

# (name in Chinese, in English, payment terms in days, customer type of the credit data:
# erp.credit.scorecard.CustomerType's values)
CUSTOMER_KINDS = [
    ("{city}市第一人民医院", "{city} First People's Hospital", 90, "hospital"),
    ("{city}市中心医院", "{city} Central Hospital", 90, "hospital"),
    ("{city}市中医医院", "{city} Hospital of Traditional Chinese Medicine", 90, "hospital"),
    ("{city}市妇幼保健院", "{city} Maternal and Child Health Hospital", 60, "hospital"),
    ("{city}{word}大药房连锁有限公司", "{word_en} Pharmacy Chain ({city}) Co., Ltd.", 30, "pharmacy_chain"),
    ("{city}{word}医药有限公司", "{word_en} Pharmaceuticals ({city}) Co., Ltd.", 45, "distributor"),
    ("{city}{word}医药物流有限公司", "{word_en} Pharma Logistics ({city}) Co., Ltd.", 60, "distributor"),
    ("{city}市疾病预防控制中心", "{city} Center for Disease Control", 90, "other"),
]
